/**
 * L-BFGS (two-loop recursion, backtracking line search with the Armijo condition and a curvature check on
 * the update) over parameters held as Float32Arrays; the objective is any async loss+gradient function, e.g. a
 * full-batch ONNX Runtime training graph. An L2 penalty ½·l2·‖w‖² is added here for the named parameters,
 * which is how scikit-learn's LogisticRegression(lbfgs) regularises (l2 = 1 / (C · n) on a mean loss).
 */
import { GraftError } from '../errors.js';
import { optimAddon } from './optim-addon.js';

export interface LbfgsOptions {
  maxIter: number;
  /** Remembered curvature pairs. */
  history: number;
  /** Stop when max |gradient| falls below this. */
  gradTol: number;
  l2: number;
  /** Parameters the L2 penalty applies to (default: all). */
  penalized?: ReadonlySet<string>;
  signal?: AbortSignal;
}

export const LBFGS_DEFAULTS: LbfgsOptions = { maxIter: 100, history: 10, gradTol: 1e-4, l2: 0 };

export type Objective = () => Promise<{ loss: number; gradients: Map<string, Float32Array> }>;

export interface LbfgsResult {
  iterations: number;
  evaluations: number;
  loss: number;
  converged: boolean;
}

/**
 * a·b summed in four interleaved partial sums, combined as (s0 + s1) + (s2 + s3): independent additions, faster
 * than one running sum; the addon's lbfgsTwoLoop sums in the same order (lbfgs.cc: dot).
 */
const dot = (a: Float64Array, b: Float64Array): number => {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n = a.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i]! * b[i]!;
    s1 += a[i + 1]! * b[i + 1]!;
    s2 += a[i + 2]! * b[i + 2]!;
    s3 += a[i + 3]! * b[i + 3]!;
  }
  for (; i < n; i++) s0 += a[i]! * b[i]!;
  return s0 + s1 + (s2 + s3);
};

/**
 * L-BFGS's two-loop recursion: q (the gradient on entry) becomes H·q, H the inverse-Hessian estimate from the
 * curvature pairs (S[i], Y[i]), oldest first, with sy[i] = S[i]·Y[i] and the initial scaling gamma. The
 * TypeScript reference of the optimizer addon's lbfgsTwoLoop, which performs the same double operations in the
 * same order (bit-identical results).
 */
export function twoLoopTs(
  q: Float64Array,
  S: readonly Float64Array[],
  Y: readonly Float64Array[],
  sy: Float64Array,
  gamma: number,
): void {
  const alpha = new Float64Array(S.length);
  for (let i = S.length - 1; i >= 0; i--) {
    const a = dot(S[i]!, q) / sy[i]!;
    alpha[i] = a;
    const y = Y[i]!;
    for (let j = 0; j < q.length; j++) q[j]! -= a * y[j]!;
  }
  for (let j = 0; j < q.length; j++) q[j]! *= gamma;
  for (let i = 0; i < S.length; i++) {
    const c = alpha[i]! - dot(Y[i]!, q) / sy[i]!;
    const s = S[i]!;
    for (let j = 0; j < q.length; j++) q[j]! += s[j]! * c;
  }
}

/** The addon's two-loop recursion where it is built (a pass over 10 pairs takes microseconds, not milliseconds). */
const twoLoop: typeof twoLoopTs = (q, S, Y, sy, gamma) => {
  const addon = optimAddon();
  if (addon) addon.lbfgsTwoLoop(q, S, Y, sy, gamma);
  else twoLoopTs(q, S, Y, sy, gamma);
};

/*
 * The solver's passes over its vectors are plain functions, never loops in minimizeLbfgs itself: an async
 * function's loops run 4–6× slower in V8 than the same loop in a plain function (measured on Node 20), which
 * made the solver's own work cost a fifth of a linear head's fit.
 */

/** `from` into the tensors, in order (rounding to float32). */
function unflatten(from: Float64Array, tensors: readonly Float32Array[]): void {
  let p = 0;
  for (const t of tensors) for (let i = 0; i < t.length; i++) t[i] = from[p++]!;
}

/**
 * g = the tensors' values one after another, plus penal·at per element; returns f + Σ ½·penal·at² and the largest
 * |g| (one pass where flattening, the penalty and the stopping test took three).
 */
function penalizedGradient(
  f: number,
  tensors: readonly Float32Array[],
  g: Float64Array,
  at: Float64Array,
  penal: Float64Array,
): { f: number; largest: number } {
  let p = 0;
  let largest = 0;
  for (const t of tensors)
    for (let i = 0; i < t.length; i++, p++) {
      const a = at[p]!;
      const c = penal[p]!;
      const v = t[i]! + c * a;
      f += 0.5 * c * a * a;
      g[p] = v;
      largest = Math.max(largest, Math.abs(v));
    }
  return { f, largest };
}

/** d = −scale·v; returns g·d (the slope along d). */
function direction(d: Float64Array, scale: number, v: Float64Array, g: Float64Array): number {
  let slope = 0;
  for (let j = 0; j < d.length; j++) {
    const dj = -scale * v[j]!;
    d[j] = dj;
    slope += g[j]! * dj;
  }
  return slope;
}

/** out = a + step · d, written to the tensors too (as float32): the point the objective evaluates next. */
function stepAlong(
  out: Float64Array,
  a: Float64Array,
  step: number,
  d: Float64Array,
  tensors: readonly Float32Array[],
): void {
  let p = 0;
  for (const t of tensors)
    for (let i = 0; i < t.length; i++, p++) {
      const v = a[p]! + step * d[p]!;
      out[p] = v;
      t[i] = v;
    }
}

/** s = next − x, y = gNext − g; returns s·y and y·y. */
function differences(
  s: Float64Array,
  y: Float64Array,
  next: Float64Array,
  x: Float64Array,
  gNext: Float64Array,
  g: Float64Array,
): { sy: number; yy: number } {
  let sy = 0;
  let yy = 0;
  for (let j = 0; j < s.length; j++) {
    const sj = next[j]! - x[j]!;
    const yj = gNext[j]! - g[j]!;
    s[j] = sj;
    y[j] = yj;
    sy += sj * yj;
    yy += yj * yj;
  }
  return { sy, yy };
}

export async function minimizeLbfgs(
  params: Map<string, Float32Array>,
  objective: Objective,
  options: Partial<LbfgsOptions> = {},
): Promise<LbfgsResult> {
  const o = { ...LBFGS_DEFAULTS, ...options };
  const names = [...params.keys()];
  const tensors = names.map((n) => params.get(n)!);
  const total = tensors.reduce((a, t) => a + t.length, 0);
  const penal = new Float64Array(total);
  let off = 0;
  names.forEach((n, i) => {
    if (!o.penalized || o.penalized.has(n)) penal.fill(o.l2, off, off + tensors[i]!.length);
    off += tensors[i]!.length;
  });
  const x = new Float64Array(total);
  let evaluations = 0;
  // gradient arrays of points left behind (a rejected trial, the previous iterate), for the next evaluation
  const spareGradients: Float64Array[] = [];
  /** The objective at the point the tensors hold (`at`, rounded to float32), with the penalty. */
  const evaluate = async (at: Float64Array): Promise<{ f: number; g: Float64Array; largest: number }> => {
    evaluations++;
    const { loss, gradients } = await objective();
    const g = spareGradients.pop() ?? new Float64Array(total);
    const r = penalizedGradient(
      loss,
      names.map((n) => gradients.get(n)!),
      g,
      at,
      penal,
    );
    return { f: r.f, g, largest: r.largest };
  };

  let p = 0;
  for (const t of tensors) for (let i = 0; i < t.length; i++) x[p++] = t[i]!;
  let { f, g, largest } = await evaluate(x);
  // Curvature pairs, newest last, with y·s computed once per pair; the arrays of a pair that falls out
  // of the history are reused. Every pass below writes into buffers allocated once.
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const ys: number[] = [];
  let newestYy = 0;
  const spare: Float64Array[] = [];
  const fresh = (): Float64Array => spare.pop() ?? new Float64Array(total);
  const q = new Float64Array(total);
  const d = new Float64Array(total);
  const next = new Float64Array(total);
  let iter = 0;
  for (; iter < o.maxIter && largest > o.gradTol; iter++) {
    if (o.signal?.aborted) throw new GraftError('CANCELLED', 'training was cancelled', { iteration: iter });
    q.set(g);
    const gamma = S.length ? ys.at(-1)! / newestYy : 1 / Math.max(1, Math.sqrt(dot(g, g)));
    twoLoop(q, S, Y, Float64Array.from(ys), gamma);
    let slope = direction(d, 1, q, g);
    if (slope >= 0) {
      spare.push(...S, ...Y);
      S.length = 0;
      Y.length = 0;
      ys.length = 0;
      slope = direction(d, gamma, g, g);
    }
    let step = 1;
    stepAlong(next, x, step, d, tensors);
    let trial = await evaluate(next);
    while (trial.f > f + 1e-4 * step * slope && step > 1e-10) {
      step *= 0.5;
      stepAlong(next, x, step, d, tensors);
      spareGradients.push(trial.g);
      trial = await evaluate(next);
    }
    const s = fresh();
    const y = fresh();
    const { sy, yy } = differences(s, y, next, x, trial.g, g);
    if (sy > 1e-10 * yy) {
      S.push(s);
      Y.push(y);
      ys.push(sy);
      newestYy = yy;
      if (S.length > o.history) {
        spare.push(S.shift()!, Y.shift()!);
        ys.shift();
      }
    } else spare.push(s, y);
    const improvement = f - trial.f;
    x.set(next);
    f = trial.f;
    spareGradients.push(g);
    g = trial.g;
    largest = trial.largest;
    if (improvement >= 0 && improvement <= 1e-12 * Math.max(1, Math.abs(f))) break;
  }
  unflatten(x, tensors);
  return { iterations: iter, evaluations, loss: f, converged: largest <= o.gradTol };
}
