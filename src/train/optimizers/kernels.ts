/**
 * The optimizers' inner loops over float32 parameters — sums of squares for gradient clipping, in-place scaling,
 * the Adam/AdamW and SGD updates — in two interchangeable implementations: SIMD C++ in graft's optimizer addon
 * (native/optim, built with the image addon; several threads), and TypeScript when the addon is absent or
 * GRAFT_NATIVE=0. Both give bit-identical results: every float operation rounds to float32 (Math.fround here,
 * no contraction there), and a sum of squares adds its terms in one fixed order (kernels.h): per chunk of 65,536
 * elements, eight float64 lanes (element i in lane i mod 8) combined pairwise, the chunks then added in order.
 */
import { addonThreads, optimAddon, type OptimAddon } from '../optim-addon.js';

/** Floats per tensor in an Adam call's scalars (their order: see `adamScalars`). */
export const ADAM_SCALARS = 8;

/** An addon call without its trailing thread count: the kernels' view fixes the threads when it is made. */
type WithoutThreads<F> = F extends (...args: [...infer A, number]) => infer R ? (...args: A) => R : never;

type KernelCalls = {
  [K in keyof Pick<OptimAddon, 'sumSquares' | 'scale' | 'adam' | 'sgd'>]: WithoutThreads<OptimAddon[K]>;
};

/** The optimizer addon's loops (kernels.h), or their TypeScript counterparts. */
export interface OptimizerKernels extends KernelCalls {
  readonly name: string;
}

export interface AdamStepConstants {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW (decay the weight) or Adam (add weightDecay · p to the gradient). */
  decoupled: boolean;
  /** This parameter's update count, from 1. */
  t: number;
}

/** Writes one tensor's Adam constants, rounded to float32, at `scalars[at * ADAM_SCALARS ...]`. */
export function adamScalars(c: AdamStepConstants, scalars: Float32Array, at: number): void {
  const decay = c.decoupled && c.weightDecay !== 0 ? 1 - c.lr * c.weightDecay : 1;
  scalars.set(
    [
      decay,
      c.decoupled ? 0 : c.weightDecay,
      1 - c.beta1,
      c.beta2,
      1 - c.beta2,
      c.lr / (1 - c.beta1 ** c.t),
      Math.sqrt(1 - c.beta2 ** c.t),
      c.eps,
    ],
    at * ADAM_SCALARS,
  );
}

/** Floats per tensor in an SGD call's scalars (their order: see `sgdScalars`). */
export const SGD_SCALARS = 5;

export interface SgdStepConstants {
  lr: number;
  /** Coupled: added to the gradient as weightDecay · p. */
  weightDecay: number;
  momentum: number;
  /** 1 − dampening; 1 on a parameter's first step, whose buffer starts as the gradient itself. */
  keep: number;
  nesterov: boolean;
}

/** Writes one tensor's SGD constants, rounded to float32, at `scalars[at * SGD_SCALARS ...]`. */
export function sgdScalars(c: SgdStepConstants, scalars: Float32Array, at: number): void {
  scalars.set([c.lr, c.weightDecay, c.momentum, c.keep, c.nesterov ? 1 : 0], at * SGD_SCALARS);
}

const CHUNK = 1 << 16;
const f = Math.fround;

function sumSquaresTs(x: Float32Array): number {
  let total = 0;
  for (let start = 0; start < x.length; start += CHUNK) {
    const end = Math.min(x.length, start + CHUNK);
    let l0 = 0,
      l1 = 0,
      l2 = 0,
      l3 = 0,
      l4 = 0,
      l5 = 0,
      l6 = 0,
      l7 = 0;
    let i = start;
    for (; i + 8 <= end; i += 8) {
      l0 += x[i]! * x[i]!;
      l1 += x[i + 1]! * x[i + 1]!;
      l2 += x[i + 2]! * x[i + 2]!;
      l3 += x[i + 3]! * x[i + 3]!;
      l4 += x[i + 4]! * x[i + 4]!;
      l5 += x[i + 5]! * x[i + 5]!;
      l6 += x[i + 6]! * x[i + 6]!;
      l7 += x[i + 7]! * x[i + 7]!;
    }
    const lanes = [l0, l1, l2, l3, l4, l5, l6, l7];
    for (; i < end; i++) lanes[i & 7]! += x[i]! * x[i]!;
    total +=
      lanes[0]! + lanes[1]! + (lanes[2]! + lanes[3]!) + (lanes[4]! + lanes[5]! + (lanes[6]! + lanes[7]!));
  }
  return total;
}

function adamTs(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  k: Float32Array,
  at: number,
) {
  const o = at * ADAM_SCALARS;
  const [decay, coupled, b1c, beta2, b2c, step, bc2, eps] = [
    k[o]!,
    k[o + 1]!,
    k[o + 2]!,
    k[o + 3]!,
    k[o + 4]!,
    k[o + 5]!,
    k[o + 6]!,
    k[o + 7]!,
  ];
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]!;
    const gi = f(g[i]! + f(coupled * pi));
    const mi = (m[i] = f(m[i]! + f(f(gi - m[i]!) * b1c)));
    const vi = (v[i] = f(f(v[i]! * beta2) + f(f(gi * gi) * b2c)));
    const denom = f(f(f(Math.sqrt(vi)) / bc2) + eps);
    p[i] = f(pi * decay) - f(step * f(mi / denom));
  }
}

/**
 * d = g + wd·p; plain: p −= lr·d; momentum: b = mu·buf + keep·d, buf = b, p −= lr·(nesterov ? d + mu·b : b).
 * Every operation rounds to float32, as the addon's loop does (kernels.h: sgd).
 */
function sgdTs(p: Float32Array, g: Float32Array, buf: Float32Array | undefined, k: Float32Array, at: number) {
  const o = at * SGD_SCALARS;
  const [lr, wd, mu, keep, nesterov] = [k[o]!, k[o + 1]!, k[o + 2]!, k[o + 3]!, k[o + 4]! !== 0];
  if (!buf) {
    for (let i = 0; i < p.length; i++) p[i] = p[i]! - f(lr * f(g[i]! + f(wd * p[i]!)));
    return;
  }
  for (let i = 0; i < p.length; i++) {
    const d = f(g[i]! + f(wd * p[i]!));
    const b = (buf[i] = f(f(mu * buf[i]!) + f(keep * d)));
    p[i] = p[i]! - f(lr * (nesterov ? f(d + f(mu * b)) : b));
  }
}

/** The TypeScript implementation (always available; the reference the addon is tested against). */
export const typescriptKernels: OptimizerKernels = {
  name: 'typescript',
  sumSquares: (tensors) => Float64Array.from(tensors, sumSquaresTs),
  scale(tensors, factor) {
    const k = f(factor);
    for (const x of tensors) for (let i = 0; i < x.length; i++) x[i] = x[i]! * k;
  },
  adam(p, g, m, v, scalars) {
    p.forEach((_, t) => adamTs(p[t]!, g[t]!, m[t]!, v[t]!, scalars, t));
  },
  sgd(p, g, buf, scalars) {
    p.forEach((_, t) => sgdTs(p[t]!, g[t]!, buf[t], scalars, t));
  },
};

/** The addon's kernels on `threads` threads, or undefined when the addon is not built or GRAFT_NATIVE=0. */
export function nativeKernels(threads = addonThreads()): OptimizerKernels | undefined {
  const addon = optimAddon();
  if (!addon) return undefined;
  return {
    name: `native-${addon.isa()}`,
    sumSquares: (tensors) => addon.sumSquares(tensors, threads),
    scale: (tensors, factor) => addon.scale(tensors, factor, threads),
    adam: (p, g, m, v, scalars) => addon.adam(p, g, m, v, scalars, threads),
    sgd: (p, g, buf, scalars) => addon.sgd(p, g, buf, scalars, threads),
  };
}

let active: OptimizerKernels | undefined;

/** The kernels the optimizers use: the addon's where it is built, TypeScript otherwise. */
export function optimizerKernels(): OptimizerKernels {
  return (active ??= nativeKernels() ?? typescriptKernels);
}
