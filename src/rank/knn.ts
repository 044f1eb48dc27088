/**
 * Cross-validated k-nearest-neighbour accuracy with cosine similarity: a cheap estimate of how well a feature
 * space separates the classes, computed from the row Gram matrix. Stratified folds, as the cut selection's.
 */
import { foldCount, stratifiedFolds } from '../strategies/select-features.js';

export interface KnnScore {
  accuracy: number;
  k: number;
  folds: number;
}

/**
 * k: the smallest class's size in a fold's training part, at most 10 — large enough to smooth out single
 * neighbours, never more than one class can fill. Votes are weighted by similarity.
 */
export function knnNeighbours(labels: Int32Array, folds: number): number {
  const counts = new Map<number, number>();
  for (const y of labels) counts.set(y, (counts.get(y) ?? 0) + 1);
  const smallest = Math.min(...counts.values());
  return Math.max(1, Math.min(10, Math.floor((smallest * (folds - 1)) / folds)));
}

/** `gram` is F Fᵀ [n × n] of the features whose rows carry `labels`. */
export function knnCrossValidation(gram: Float64Array, labels: Int32Array, seed: number): KnnScore {
  const n = labels.length;
  const k = foldCount(labels);
  const fold = stratifiedFolds(labels, k, seed);
  const neighbours = knnNeighbours(labels, k);
  const norm = Float64Array.from({ length: n }, (_, i) => Math.sqrt(Math.max(0, gram[i * n + i]!)));
  const numClasses = Math.max(...labels) + 1;
  let right = 0;
  const sims: { j: number; s: number }[] = [];
  const votes = new Float64Array(numClasses);
  for (let i = 0; i < n; i++) {
    sims.length = 0;
    for (let j = 0; j < n; j++) {
      if (fold[j] === fold[i]) continue;
      const d = norm[i]! * norm[j]!;
      sims.push({ j, s: d > 0 ? gram[i * n + j]! / d : 0 });
    }
    sims.sort((a, b) => b.s - a.s || a.j - b.j);
    votes.fill(0);
    // Similarities shifted to be positive, so a far neighbour still counts a little.
    for (const { j, s } of sims.slice(0, neighbours)) votes[labels[j]!]! += 1 + s;
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (votes[c]! > votes[best]!) best = c;
    if (best === labels[i]) right++;
  }
  return { accuracy: right / n, k: neighbours, folds: k };
}
