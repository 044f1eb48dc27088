/** One candidate feature space scored: cross-validated cosine k-NN accuracy beside LogME, and the time taken. */
import { deriveSeed, mulberry32, shuffled } from '../data/random.js';
import type { FeatureMatrix } from '../features/matrix.js';
import { rowGram } from './gram.js';
import { knnCrossValidation } from './knn.js';
import { logme } from './logme.js';

export interface RankedCandidate {
  /** The model (registry id, source, `pixels` or `tfidf`). */
  model: string;
  /** Where the model is cut (a feature id), or the baseline's variant. */
  feature: string;
  dim: number;
  /** Training examples scored. */
  examples: number;
  /** Mean held-out accuracy of cosine k-NN over stratified folds of the training split. */
  knnAccuracy: number;
  k: number;
  folds: number;
  /** LogME evidence per example (You et al., 2021); higher is better. */
  logme: number;
  /** This candidate's share of the feature extraction, and its scoring, in seconds. */
  seconds: { extract: number; score: number };
}

export function scoreCandidate(
  m: FeatureMatrix,
  seed: number,
): Pick<RankedCandidate, 'knnAccuracy' | 'k' | 'folds' | 'logme' | 'dim' | 'examples'> & {
  scoreSeconds: number;
} {
  const t0 = performance.now();
  const f = { data: m.data, dim: m.dim, rows: m.labels.length };
  const gram = rowGram(f);
  const knn = knnCrossValidation(gram, m.labels, seed);
  const evidence = logme(f, m.labels, { gram });
  return {
    dim: m.dim,
    examples: f.rows,
    knnAccuracy: knn.accuracy,
    k: knn.k,
    folds: knn.folds,
    logme: evidence,
    scoreSeconds: (performance.now() - t0) / 1000,
  };
}

/**
 * At most `max` of `items`, each class keeping its share (at least 2 where it has them, for the folds):
 * scoring costs O(n²·d) and O(min(n, d)³), so large training splits are subsampled, the same way for every
 * candidate.
 */
export function stratifiedSubsample<T extends { label: number }>(
  items: readonly T[],
  max: number,
  seed: number,
): T[] {
  if (items.length <= max) return [...items];
  const byClass = new Map<number, T[]>();
  for (const it of items) byClass.set(it.label, [...(byClass.get(it.label) ?? []), it]);
  const kept: T[] = [];
  for (const [label, members] of byClass) {
    const take = Math.max(Math.min(2, members.length), Math.round((members.length * max) / items.length));
    kept.push(...shuffled(members, mulberry32(deriveSeed(seed, 'rank', label))).slice(0, take));
  }
  const order = new Map(items.map((it, i) => [it, i]));
  return kept.sort((a, b) => order.get(a)! - order.get(b)!);
}
