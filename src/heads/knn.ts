/**
 * k-nearest-neighbours classifier on feature vectors, cosine similarity. Probabilities are vote fractions
 * (sklearn KNeighborsClassifier, weights='uniform', metric='cosine'); the predicted class is the majority
 * vote, ties broken by the larger summed similarity, then the lower class index.
 */
import { check } from '../errors.js';

export interface KnnOptions {
  /** Neighbours per query; default 5 (capped at the number of training samples). */
  k?: number;
  /** Number of classes; default max(label) + 1. */
  numClasses?: number;
}

/** Rows of an N×dim matrix scaled to unit L2 norm (zero rows stay zero). */
export function l2NormalizeRows(x: ArrayLike<number>, dim: number): Float32Array {
  check(
    dim >= 1 && x.length % dim === 0,
    'SHAPE_MISMATCH',
    `length ${x.length} is not a multiple of dim ${dim}`,
  );
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length; r += dim) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[r + j]! * x[r + j]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dim; j++) out[r + j] = x[r + j]! * inv;
  }
  return out;
}

export function checkFeatures(features: ArrayLike<number>, labels: ArrayLike<number>, dim: number): number {
  check(labels.length > 0, 'BAD_INPUT', 'no training samples');
  check(
    features.length === labels.length * dim,
    'SHAPE_MISMATCH',
    `features length ${features.length} ≠ ${labels.length} samples × dim ${dim}`,
  );
  let max = 0;
  for (let i = 0; i < labels.length; i++) {
    check(Number.isInteger(labels[i]) && labels[i]! >= 0, 'BAD_INPUT', `invalid label ${labels[i]} at ${i}`);
    max = Math.max(max, labels[i]!);
  }
  return max + 1;
}

export interface Neighbours {
  /** N×k training indices, most similar first (equal similarities: lower index first). */
  indices: Int32Array;
  /** N×k cosine similarities. */
  similarities: Float64Array;
}

export class KnnClassifier {
  readonly k: number;
  readonly numClasses: number;
  readonly dim: number;
  private readonly bank: Float32Array;
  private readonly labels: Int32Array;

  constructor(features: ArrayLike<number>, labels: ArrayLike<number>, dim: number, options: KnnOptions = {}) {
    const seen = checkFeatures(features, labels, dim);
    this.numClasses = options.numClasses ?? seen;
    check(seen <= this.numClasses, 'BAD_INPUT', `label ${seen - 1} ≥ numClasses ${this.numClasses}`);
    const k = options.k ?? 5;
    check(Number.isInteger(k) && k >= 1, 'BAD_OPTION', `k must be a positive integer, got ${k}`);
    this.k = Math.min(k, labels.length);
    this.dim = dim;
    this.bank = l2NormalizeRows(features, dim);
    this.labels = Int32Array.from(labels);
  }

  kneighbors(queries: ArrayLike<number>): Neighbours {
    const q = l2NormalizeRows(queries, this.dim);
    const n = q.length / this.dim;
    const { k, dim, bank } = this;
    const m = this.labels.length;
    const indices = new Int32Array(n * k);
    const similarities = new Float64Array(n * k);
    const sims = new Float64Array(m);
    const order = new Int32Array(m);
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < m; t++) {
        let s = 0;
        for (let j = 0; j < dim; j++) s += q[i * dim + j]! * bank[t * dim + j]!;
        sims[t] = s;
        order[t] = t;
      }
      // partial selection: k passes of insertion into the top of `order`
      for (let a = 0; a < k; a++) {
        let best = a;
        for (let b = a + 1; b < m; b++) {
          const ob = order[b]!;
          const obest = order[best]!;
          if (sims[ob]! > sims[obest]! || (sims[ob] === sims[obest] && ob < obest)) best = b;
        }
        const tmp = order[a]!;
        order[a] = order[best]!;
        order[best] = tmp;
        indices[i * k + a] = order[a]!;
        similarities[i * k + a] = sims[order[a]!]!;
      }
    }
    return { indices, similarities };
  }

  /** N×C vote fractions. */
  predictProbs(queries: ArrayLike<number>): Float32Array {
    return this.vote(queries).probs;
  }

  predict(queries: ArrayLike<number>): Int32Array {
    return this.vote(queries).predictions;
  }

  private vote(queries: ArrayLike<number>): { probs: Float32Array; predictions: Int32Array } {
    const { indices, similarities } = this.kneighbors(queries);
    const { k, numClasses: c } = this;
    const n = indices.length / k;
    const probs = new Float32Array(n * c);
    const predictions = new Int32Array(n);
    const votes = new Int32Array(c);
    const weight = new Float64Array(c);
    for (let i = 0; i < n; i++) {
      votes.fill(0);
      weight.fill(0);
      for (let a = 0; a < k; a++) {
        const y = this.labels[indices[i * k + a]!]!;
        votes[y]!++;
        weight[y]! += similarities[i * k + a]!;
      }
      let best = 0;
      for (let y = 0; y < c; y++) {
        probs[i * c + y] = votes[y]! / k;
        if (votes[y]! > votes[best]! || (votes[y] === votes[best] && weight[y]! > weight[best]!)) best = y;
      }
      predictions[i] = best;
    }
    return { probs, predictions };
  }
}
