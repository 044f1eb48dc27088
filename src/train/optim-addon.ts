/**
 * graft's optimizer addon (native/optim → build/Release/graft_optim.node): the optimizers' SIMD loops and the
 * linear softmax objective full-batch solvers evaluate. Loaded once; absent when not built or GRAFT_NATIVE=0,
 * and then every caller has a path of its own (TypeScript kernels, ONNX Runtime graphs).
 */
import { availableParallelism } from 'node:os';
import { loadAddon } from '../runtime/addons.js';

export interface OptimAddon {
  /** Per-tensor sums of squares, in float64. */
  sumSquares(tensors: readonly Float32Array[], threads: number): Float64Array;
  /** x *= Math.fround(factor), in place. */
  scale(tensors: readonly Float32Array[], factor: number, threads: number): void;
  /** One Adam step over every tensor, in place on p, m and v; `scalars` from `adamScalars`, per tensor. */
  adam(
    p: readonly Float32Array[],
    g: readonly Float32Array[],
    m: readonly Float32Array[],
    v: readonly Float32Array[],
    scalars: Float32Array,
    threads: number,
  ): void;
  /**
   * One SGD step over every tensor, in place on p and buf (the momentum buffers; [] for plain SGD); `scalars`
   * from `sgdScalars`, per tensor.
   */
  sgd(
    p: readonly Float32Array[],
    g: readonly Float32Array[],
    buf: readonly Float32Array[],
    scalars: Float32Array,
    threads: number,
  ): void;
  isa(): string;
  /**
   * Mean cross-entropy of softmax(x · weightᵀ + bias) against `labels` smoothed by `smoothing`, over all n rows of
   * x [n, d]; writes the mean's gradients into gradWeight [k, d] and gradBias [k]. Throws RangeError for a label
   * outside [0, k).
   */
  softmaxRegression(
    x: Float32Array,
    labels: Int32Array,
    weight: Float32Array,
    bias: Float32Array,
    gradWeight: Float32Array,
    gradBias: Float32Array,
    smoothing: number,
    threads: number,
  ): number;
  /** out = (x - mean) / std row by row, one float32 subtraction and division per value. */
  standardize(
    x: Float32Array,
    mean: Float32Array,
    std: Float32Array,
    out: Float32Array,
    threads: number,
  ): void;
  /**
   * Per column j of x [n, dim]: the sum of x[i, j] − x[0, j] over the rows in order, in float64, then the sum of
   * their squares ([2 · dim]; src/features/matrix.ts fitStandardizer's pass, bit for bit).
   */
  shiftedColumnSums(x: Float32Array, dim: number, threads: number): Float64Array;
  /** L-BFGS's two-loop recursion in place on q (src/train/lbfgs.ts: twoLoopTs, bit for bit). */
  lbfgsTwoLoop(
    q: Float64Array,
    s: readonly Float64Array[],
    y: readonly Float64Array[],
    sy: Float64Array,
    gamma: number,
  ): void;
}

/** The addon, or undefined when it is not built or GRAFT_NATIVE=0. */
export function optimAddon(): OptimAddon | undefined {
  return loadAddon<OptimAddon>('graft_optim').addon;
}

/** Threads the addon's callers use unless told otherwise: the cores, at most 4. */
export function addonThreads(): number {
  return Math.min(4, availableParallelism());
}
