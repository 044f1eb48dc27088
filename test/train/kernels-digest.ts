/**
 * Prints a SHA-256 digest of the optimizer kernels' results on fixed inputs (kernelsDigest), computed with the
 * addon's kernels — run by optimizer-kernels.test.ts in child processes with GRAFT_OPTIM_ISA set, so that each
 * of the addon's instruction-set paths is compared with the TypeScript kernels.
 */
import { createHash } from 'node:crypto';
import { mulberry32 } from '../../src/data/random.js';
import {
  ADAM_SCALARS,
  adamScalars,
  nativeKernels,
  SGD_SCALARS,
  sgdScalars,
  type OptimizerKernels,
} from '../../src/train/optimizers/kernels.js';

/** Lengths around the 8- and 16-lane vectors and the 65,536-element chunks. */
export const LENGTHS = [0, 1, 7, 8, 9, 15, 16, 17, 65_535, 65_536, 65_537, 200_003];

/** Values over many magnitudes, signs, exact zeros and subnormals. */
export function tensor(n: number, seed: number): Float32Array {
  const u = mulberry32(seed);
  return Float32Array.from({ length: n }, () => {
    const r = u();
    if (r < 0.05) return 0;
    if (r < 0.08) return (u() - 0.5) * 1e-40;
    return (u() - 0.5) * 10 ** Math.floor(u() * 12 - 8);
  });
}

/**
 * Runs sumSquares, scale, three Adam/AdamW steps and three steps of each kind of SGD (plain, momentum with
 * dampening, Nesterov) with `k`, and hashes every result's bits.
 */
export function kernelsDigest(k: OptimizerKernels): string {
  const hash = createHash('sha256');
  const add = (x: Float32Array | Float64Array) =>
    hash.update(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
  const g = LENGTHS.map((n, i) => tensor(n, 100 + i));
  add(k.sumSquares(g));
  k.scale(g, 0.37);
  g.forEach(add);
  for (const decoupled of [true, false]) {
    const p = LENGTHS.map((n, i) => tensor(n, 200 + i));
    const m = LENGTHS.map((n) => new Float32Array(n));
    const v = LENGTHS.map((n) => new Float32Array(n));
    for (let t = 1; t <= 3; t++) {
      const s = new Float32Array(LENGTHS.length * ADAM_SCALARS);
      LENGTHS.forEach((_, i) =>
        adamScalars(
          { lr: 1e-3 * (i + 1), beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 * i, decoupled, t },
          s,
          i,
        ),
      );
      k.adam(p, g, m, v, s);
    }
    [...p, ...m, ...v].forEach(add);
  }
  for (const kind of ['plain', 'momentum', 'nesterov'] as const) {
    const p = LENGTHS.map((n, i) => tensor(n, 300 + i));
    const buf = kind === 'plain' ? [] : LENGTHS.map((n) => new Float32Array(n));
    for (let t = 1; t <= 3; t++) {
      const s = new Float32Array(LENGTHS.length * SGD_SCALARS);
      LENGTHS.forEach((_, i) =>
        sgdScalars(
          {
            lr: 0.01 * (i + 1),
            weightDecay: 1e-3 * i,
            momentum: kind === 'plain' ? 0 : 0.9,
            keep: t === 1 || kind === 'nesterov' ? 1 : 0.7,
            nesterov: kind === 'nesterov',
          },
          s,
          i,
        ),
      );
      k.sgd(p, g, buf, s);
    }
    [...p, ...buf].forEach(add);
  }
  return hash.digest('hex');
}

if (process.argv[2] === '--print') {
  const k = nativeKernels(Number(process.argv[3] ?? 2));
  console.log(JSON.stringify({ kernels: k?.name ?? 'none', digest: k ? kernelsDigest(k) : '' }));
}
