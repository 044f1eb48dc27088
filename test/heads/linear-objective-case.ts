/**
 * A fixed linear softmax problem for linear-objective.test.ts: its data, a float64 reference of the objective, and
 * (run as a script) the addon's loss and gradients as JSON, for child processes with GRAFT_OPTIM_ISA set.
 */
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../../src/data/random.js';
import { optimAddon } from '../../src/train/optim-addon.js';

export interface LinearCase {
  x: Float32Array;
  labels: Int32Array;
  weight: Float32Array;
  bias: Float32Array;
  n: number;
  d: number;
  k: number;
}

/** n rows of d features, k classes; random weights of the scale a fit reaches. */
export function linearCase(n: number, d: number, k: number, seed: number): LinearCase {
  const u = mulberry32(seed);
  return {
    x: Float32Array.from({ length: n * d }, () => 4 * u() - 2),
    labels: Int32Array.from({ length: n }, () => Math.floor(u() * k)),
    weight: Float32Array.from({ length: k * d }, () => (u() - 0.5) / Math.sqrt(d)),
    bias: Float32Array.from({ length: k }, () => u() - 0.5),
    n,
    d,
    k,
  };
}

/** Mean cross-entropy with smoothed targets and its gradients, in float64, straight from the definition. */
export function referenceObjective(c: LinearCase, smoothing: number) {
  const { n, d, k } = c;
  const gradWeight = new Float64Array(k * d);
  const gradBias = new Float64Array(k);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const z = Array.from({ length: k }, (_, j) => {
      let s = c.bias[j]!;
      for (let t = 0; t < d; t++) s += c.weight[j * d + t]! * c.x[i * d + t]!;
      return s;
    });
    const top = Math.max(...z);
    const logZ = top + Math.log(z.reduce((a, v) => a + Math.exp(v - top), 0));
    for (let j = 0; j < k; j++) {
      const target = smoothing / k + (j === c.labels[i] ? 1 - smoothing : 0);
      loss -= target * (z[j]! - logZ);
      const g = (Math.exp(z[j]! - logZ) - target) / n;
      gradBias[j]! += g;
      for (let t = 0; t < d; t++) gradWeight[j * d + t]! += g * c.x[i * d + t]!;
    }
  }
  return { loss: loss / n, gradWeight, gradBias };
}

/** The addon's objective on `c`. */
export function addonObjective(c: LinearCase, smoothing: number, threads: number) {
  const gradWeight = new Float32Array(c.k * c.d);
  const gradBias = new Float32Array(c.k);
  const loss = optimAddon()!.softmaxRegression(
    c.x,
    c.labels,
    c.weight,
    c.bias,
    gradWeight,
    gradBias,
    smoothing,
    threads,
  );
  return { loss, gradWeight, gradBias };
}

/** The case every instruction-set path is checked on: a short last tile, d not a multiple of 8, 7 classes. */
/** 10 classes: the default path is the transposed-weight one where the CPU has AVX-512. */
export const ISA_CASE = { n: 45, d: 37, k: 10, seed: 11, smoothing: 0.1 } as const;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { n, d, k, seed, smoothing } = ISA_CASE;
  const r = addonObjective(linearCase(n, d, k, seed), smoothing, 2);
  console.log(
    JSON.stringify({
      isa: optimAddon()!.isa(),
      loss: r.loss,
      gradWeight: Array.from(r.gradWeight),
      gradBias: Array.from(r.gradBias),
    }),
  );
}
