/**
 * Choosing what to ship by cross-validation on the training split: every feature source (the backbone's
 * candidate cuts, pooled globally or over a grid, and the no-transfer baseline) × every head kind left open.
 * Cheap heads (linear, k-NN, nearest class mean) are scored on every feature; the MLP, which costs far more to
 * fit, only on the features whose cheap heads scored best. A time budget stops the search; what it skipped is
 * listed as such, never silently dropped. The winner has the best mean fold accuracy; ties go to the simpler
 * head, then to the narrower features. The baseline is a candidate like any other, so the search never ships
 * something that scores below it in its own cross-validation.
 */
import { GraftError } from '../errors.js';
import { concatFeatureId, isConcatenation } from '../features/feature-id.js';
import { selectRows, type FeatureMatrix } from '../features/matrix.js';
import type { MatrixViews } from '../features/view-matrix.js';
import type { HeadKind, HeadOptions } from '../heads/fitted.js';
import { crossValidate, foldCount, searchRows } from './select-features.js';

export interface FeatureCandidate {
  /** The model the features come from (a registry id, a source, or a baseline id such as `pixels`). */
  model: string;
  /** Feature id within that model (see features/feature-id.ts). */
  tensor: string;
  /** Training-split features, rows in the same example order for every candidate. */
  data: FeatureMatrix;
  /** Head settings this feature needs (e.g. no standardisation for sparse tf-idf rows). */
  head?: Partial<HeadOptions>;
  /** Augmented views of the training rows, fitted on in every fold with their image (feature-level augmentation). */
  views?: MatrixViews;
}

export interface CandidateScore {
  model: string;
  tensor: string;
  head: HeadKind;
  dim: number;
  /** Mean held-out accuracy over the folds (NaN when skipped). */
  cvAccuracy: number;
  folds: number;
  /** Training rows the folds were drawn from (a subsample when the training split is large). */
  rows?: number;
  seconds: number;
  /** Why it was not scored (the time budget ran out). */
  skipped?: string;
}

export interface AutoSelectOptions {
  /** Head kinds to try (the MLP only on the best features, see `mlpFinalists`). */
  heads: readonly HeadKind[];
  /** Features whose best cheap head scored highest that the MLP is also tried on. Default 1. */
  mlpFinalists?: number;
  /**
   * Fewest training examples per class at which the MLP is tried (below it, an MLP on a handful of examples
   * rarely beats the convex heads and costs the most to cross-validate; it is listed as skipped). Default 20.
   */
  mlpMinPerClass?: number;
  /**
   * Score on a stratified subsample of at most this many training rows (the same rows for every candidate), so
   * the search costs the same on 2,000 or 200,000 examples; the winner is then fitted on all of them. Default
   * 2,000.
   */
  maxRows?: number;
  /** Widest features the MLP is tried on (its cost grows with width × hidden units). Default 4,096. */
  mlpMaxDim?: number;
  /** Stop scoring new candidates after this many milliseconds. Default: no limit. */
  budgetMs?: number;
  onScore?: (s: CandidateScore) => void;
  /**
   * Candidates built from the cheap heads' scores (e.g. the best two features side by side), scored with the cheap
   * heads like the others, and before the MLP, so the MLP goes to the best feature of all.
   */
  followUps?: (scores: readonly CandidateScore[]) => FeatureCandidate[];
}

/** Every head kind the search tries when the head is left open. */
export const AUTO_HEADS: readonly HeadKind[] = ['linear', 'knn', 'ncm', 'mlp'];

const HEAD_PREFERENCE: readonly HeadKind[] = ['linear', 'mlp', 'ncm', 'knn'];

/** Orders candidates best first: higher CV accuracy, then the simpler head, then fewer dimensions. */
export function compareCandidates(a: CandidateScore, b: CandidateScore): number {
  const acc = (s: CandidateScore) => (Number.isNaN(s.cvAccuracy) ? -1 : s.cvAccuracy);
  // Fold accuracies are multiples of 1/n: differences below 1e-9 are ties.
  if (Math.abs(acc(a) - acc(b)) > 1e-9) return acc(b) - acc(a);
  const rank = HEAD_PREFERENCE.indexOf(a.head) - HEAD_PREFERENCE.indexOf(b.head);
  return rank !== 0 ? rank : a.dim - b.dim;
}

/**
 * The concatenation worth scoring after the single features of `model`: its two best-scoring features (each by its
 * best head), in `order` (shallow to deep), or nothing when fewer than two were scored.
 */
export function concatenationCandidate(
  scores: readonly CandidateScore[],
  model: string,
  order: readonly string[],
): string | undefined {
  const best = new Map<string, number>();
  for (const s of scores)
    if (s.model === model && !s.skipped && !isConcatenation(s.tensor))
      best.set(s.tensor, Math.max(best.get(s.tensor) ?? -1, s.cvAccuracy));
  if (best.size < 2) return undefined;
  const top = [...best]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 2)
    .map(([tensor]) => tensor);
  return concatFeatureId(top.sort((a, b) => order.indexOf(a) - order.indexOf(b)));
}

export function bestCandidate(scores: readonly CandidateScore[]): CandidateScore {
  const scored = scores.filter((s) => !s.skipped);
  if (scored.length === 0)
    throw new GraftError(
      'BAD_OPTION',
      'the time budget ran out before any candidate was scored: raise --budget',
    );
  return [...scored].sort(compareCandidates)[0]!;
}

export async function scoreCandidates(
  candidates: readonly FeatureCandidate[],
  numClasses: number,
  head: HeadOptions,
  o: AutoSelectOptions,
): Promise<CandidateScore[]> {
  const start = performance.now();
  const scores: CandidateScore[] = [];
  const first = candidates[0];
  const rows = first ? searchRows(first.data.labels, o.maxRows ?? 2000, head.seed) : [];
  const sample = (m: FeatureMatrix) => (rows.length === m.labels.length ? m : selectRows(m, rows));
  const score = async (c: FeatureCandidate, kind: HeadKind, skip?: string): Promise<void> => {
    const base = { model: c.model, tensor: c.tensor, head: kind, dim: c.data.dim };
    if (o.budgetMs !== undefined && performance.now() - start > o.budgetMs) skip ??= 'time budget';
    if (skip) {
      const s = { ...base, cvAccuracy: NaN, folds: 0, seconds: 0, skipped: skip };
      scores.push(s);
      o.onScore?.(s);
      return;
    }
    const t0 = performance.now();
    // Augmented views are aligned with every training row: with views the search scores on all of them.
    const data = c.views ? c.data : sample(c.data);
    const folds = foldCount(data.labels);
    const options = { ...head, ...c.head, kind };
    const cvAccuracy = await crossValidate(data, numClasses, options, folds, c.views);
    const s = {
      ...base,
      cvAccuracy,
      folds,
      rows: data.labels.length,
      seconds: (performance.now() - t0) / 1000,
    };
    scores.push(s);
    o.onScore?.(s);
  };
  const cheap = o.heads.filter((h) => h !== 'mlp');
  for (const c of candidates) for (const kind of cheap) await score(c, kind);
  const followUps = o.followUps?.(scores) ?? [];
  for (const c of followUps) for (const kind of cheap) await score(c, kind);
  const all = [...candidates, ...followUps];
  if (o.heads.includes('mlp')) {
    const bestOf = (c: FeatureCandidate) =>
      Math.max(
        -1,
        ...scores
          .filter((s) => s.model === c.model && s.tensor === c.tensor && !s.skipped)
          .map((s) => s.cvAccuracy),
      );
    const finalists = [...all]
      .sort((a, b) => bestOf(b) - bestOf(a))
      .slice(0, cheap.length ? (o.mlpFinalists ?? 1) : all.length);
    const minPerClass = o.mlpMinPerClass ?? 20;
    for (const c of finalists) {
      const perClass = c.data.labels.length / numClasses;
      const maxDim = o.mlpMaxDim ?? 4096;
      const few =
        cheap.length > 0 && perClass < minPerClass
          ? `${perClass.toFixed(0)} examples per class; MLPs are tried from ${minPerClass}`
          : cheap.length > 0 && c.data.dim > maxDim
            ? `${c.data.dim} dimensions; MLPs are tried on up to ${maxDim}`
            : undefined;
      await score(c, 'mlp', few);
    }
  }
  return scores;
}
