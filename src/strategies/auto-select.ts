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
import type { FeatureMatrix } from '../features/matrix.js';
import type { MatrixViews } from '../features/view-matrix.js';
import type { HeadKind, HeadOptions } from './heads.js';
import { crossValidate, foldCount } from './select-features.js';

export interface FeatureCandidate {
  /** The model the features come from (a registry id, a source, or a baseline id such as `pixels`). */
  model: string;
  /** Feature id within that model (see features/feature-id.ts). */
  tensor: string;
  /** Training-split features, rows in the same example order for every candidate. */
  data: FeatureMatrix;
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
  /** Stop scoring new candidates after this many milliseconds. Default: no limit. */
  budgetMs?: number;
  onScore?: (s: CandidateScore) => void;
}

const HEAD_PREFERENCE: readonly HeadKind[] = ['linear', 'mlp', 'ncm', 'knn'];

/** Orders candidates best first: higher CV accuracy, then the simpler head, then fewer dimensions. */
export function compareCandidates(a: CandidateScore, b: CandidateScore): number {
  const acc = (s: CandidateScore) => (Number.isNaN(s.cvAccuracy) ? -1 : s.cvAccuracy);
  // Fold accuracies are multiples of 1/n: differences below 1e-9 are ties.
  if (Math.abs(acc(a) - acc(b)) > 1e-9) return acc(b) - acc(a);
  const rank = HEAD_PREFERENCE.indexOf(a.head) - HEAD_PREFERENCE.indexOf(b.head);
  return rank !== 0 ? rank : a.dim - b.dim;
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
    const folds = foldCount(c.data.labels);
    const cvAccuracy = await crossValidate(c.data, numClasses, { ...head, kind }, folds, c.views);
    const s = { ...base, cvAccuracy, folds, seconds: (performance.now() - t0) / 1000 };
    scores.push(s);
    o.onScore?.(s);
  };
  const cheap = o.heads.filter((h) => h !== 'mlp');
  for (const c of candidates) for (const kind of cheap) await score(c, kind);
  if (o.heads.includes('mlp')) {
    const bestOf = (c: FeatureCandidate) =>
      Math.max(
        -1,
        ...scores
          .filter((s) => s.model === c.model && s.tensor === c.tensor && !s.skipped)
          .map((s) => s.cvAccuracy),
      );
    const finalists = [...candidates]
      .sort((a, b) => bestOf(b) - bestOf(a))
      .slice(0, cheap.length ? (o.mlpFinalists ?? 1) : candidates.length);
    const minPerClass = o.mlpMinPerClass ?? 20;
    for (const c of finalists) {
      const perClass = c.data.labels.length / numClasses;
      const few =
        cheap.length > 0 && perClass < minPerClass
          ? `${perClass.toFixed(0)} examples per class; MLPs are tried from ${minPerClass}`
          : undefined;
      await score(c, 'mlp', few);
    }
  }
  return scores;
}
