/**
 * Nearest class mean (NCM) classifier on L2-normalised features. Class means are means of the normalised
 * training features. Logits: cosine → x̂·μ/‖μ‖; euclidean → 2x̂·μ − ‖μ‖² (= −‖x̂−μ‖² + 1, the constant drops
 * out of the softmax). Probabilities: softmax(logits / temperature). So NCM is exactly
 * L2-normalise → Gemm(weight, bias) → Softmax, and `ncmAsGemm` gives that weight and bias for export.
 */
import { check } from '../errors.js';
import { argmaxRows } from '../eval/metrics.js';
import { checkFeatures, l2NormalizeRows } from './knn.js';

export type NcmMetric = 'cosine' | 'euclidean';

export interface NcmOptions {
  metric?: NcmMetric;
  /** Softmax temperature; default 0.1 (cosine similarities live in [-1, 1]). */
  temperature?: number;
  numClasses?: number;
}

/**
 * NCM as plain data for an ONNX graph: y = softmax(Gemm(l2normalize(x), weight, bias, transB=1)).
 * weight is C×D row-major (Gemm with transB=1), the temperature is folded in. Normalise with
 * x / max(‖x‖₂, 1e-12) (ONNX LpNormalization has no epsilon: an all-zero row would give NaN).
 */
export interface NcmGemm {
  weight: Float32Array;
  bias: Float32Array;
  numClasses: number;
  dim: number;
  transB: 1;
}

export class NearestClassMean {
  readonly metric: NcmMetric;
  readonly temperature: number;
  readonly numClasses: number;
  readonly dim: number;
  /** C×D means of the L2-normalised training features. */
  readonly means: Float32Array;

  constructor(features: ArrayLike<number>, labels: ArrayLike<number>, dim: number, options: NcmOptions = {}) {
    const seen = checkFeatures(features, labels, dim);
    this.numClasses = options.numClasses ?? seen;
    check(seen <= this.numClasses, 'BAD_INPUT', `label ${seen - 1} ≥ numClasses ${this.numClasses}`);
    this.metric = options.metric ?? 'cosine';
    this.temperature = options.temperature ?? 0.1;
    check(this.temperature > 0, 'BAD_OPTION', `temperature must be > 0, got ${this.temperature}`);
    this.dim = dim;
    const x = l2NormalizeRows(features, dim);
    const sums = new Float64Array(this.numClasses * dim);
    const counts = new Float64Array(this.numClasses);
    for (let i = 0; i < labels.length; i++) {
      const y = labels[i]!;
      counts[y]!++;
      for (let j = 0; j < dim; j++) sums[y * dim + j]! += x[i * dim + j]!;
    }
    counts.forEach((n, y) => check(n > 0, 'BAD_INPUT', `class ${y} has no training samples`, { class: y }));
    this.means = new Float32Array(sums.length);
    for (let i = 0; i < sums.length; i++) this.means[i] = sums[i]! / counts[Math.floor(i / dim)]!;
  }

  /** Weight (C×D, temperature folded in) and bias such that probs = softmax(x̂ Wᵀ + b). */
  toGemm(): NcmGemm {
    const { numClasses: c, dim, means, temperature: t } = this;
    const weight = new Float32Array(c * dim);
    const bias = new Float32Array(c);
    for (let y = 0; y < c; y++) {
      let sq = 0;
      for (let j = 0; j < dim; j++) sq += means[y * dim + j]! * means[y * dim + j]!;
      const scale = this.metric === 'cosine' ? (sq > 0 ? 1 / Math.sqrt(sq) : 0) : 2;
      for (let j = 0; j < dim; j++) weight[y * dim + j] = (means[y * dim + j]! * scale) / t;
      bias[y] = this.metric === 'cosine' ? 0 : -sq / t;
    }
    return { weight, bias, numClasses: c, dim, transB: 1 };
  }

  /** N×C logits (already divided by the temperature), computed in float64. */
  logits(queries: ArrayLike<number>): Float64Array {
    const { weight, bias, numClasses: c, dim } = this.toGemm();
    const x = l2NormalizeRows(queries, dim);
    const n = x.length / dim;
    const out = new Float64Array(n * c);
    for (let i = 0; i < n; i++) {
      for (let y = 0; y < c; y++) {
        let s = bias[y]!;
        for (let j = 0; j < dim; j++) s += x[i * dim + j]! * weight[y * dim + j]!;
        out[i * c + y] = s;
      }
    }
    return out;
  }

  predictProbs(queries: ArrayLike<number>): Float32Array {
    const z = this.logits(queries);
    const c = this.numClasses;
    const out = new Float32Array(z.length);
    for (let r = 0; r < z.length; r += c) {
      let max = -Infinity;
      for (let y = 0; y < c; y++) max = Math.max(max, z[r + y]!);
      let sum = 0;
      for (let y = 0; y < c; y++) sum += Math.exp(z[r + y]! - max);
      for (let y = 0; y < c; y++) out[r + y] = Math.exp(z[r + y]! - max) / sum;
    }
    return out;
  }

  predict(queries: ArrayLike<number>): Int32Array {
    const z = this.logits(queries);
    return argmaxRows(z, z.length / this.numClasses);
  }
}
