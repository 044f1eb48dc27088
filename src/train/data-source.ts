/** An in-memory DataSource over tensors whose first dimension is the sample axis. */
import { check } from '../errors.js';
import { allocate, type DType, type Tensor, type TensorData } from '../tensor.js';
import { deriveSeed, permutation, Rng } from './random.js';
import type { Batch, DataSource } from './types.js';

export interface ArrayDataSourceOptions {
  /** Shuffling order is a function of (seed, epoch) only. Default 0. */
  seed?: number;
}

function gather(t: Tensor, rows: Int32Array, start: number, end: number): Tensor {
  const per = t.shape.slice(1).reduce((a, b) => a * b, 1);
  const out = allocate(t.dtype as Exclude<DType, 'string'>, (end - start) * per) as Exclude<
    TensorData,
    string[]
  >;
  const src = t.data as Exclude<TensorData, string[]>;
  for (let r = start; r < end; r++) {
    const from = rows[r]! * per;
    (out as Float32Array).set((src as Float32Array).subarray(from, from + per), (r - start) * per);
  }
  return { dtype: t.dtype, shape: [end - start, ...t.shape.slice(1)], data: out };
}

export function arrayDataSource(
  inputs: Record<string, Tensor>,
  labels: Int32Array,
  options: ArrayDataSourceOptions = {},
): DataSource {
  const n = labels.length;
  for (const [name, t] of Object.entries(inputs)) {
    check(t.dtype !== 'string', 'BAD_INPUT', `input '${name}': string tensors are not supported`);
    check(t.shape[0] === n, 'SHAPE_MISMATCH', `input '${name}' has ${t.shape[0]} rows, labels ${n}`, {
      name,
    });
  }
  const seed = options.seed ?? 0;
  return {
    size: n,
    async *batches(batchSize: number, epoch: number, shuffle: boolean): AsyncIterable<Batch> {
      check(batchSize >= 1, 'BAD_OPTION', `batch size must be ≥ 1, got ${batchSize}`);
      const order = shuffle
        ? permutation(n, new Rng(deriveSeed(seed, epoch)))
        : Int32Array.from({ length: n }, (_, i) => i);
      for (let s = 0; s < n; s += batchSize) {
        const e = Math.min(n, s + batchSize);
        const batchInputs: Record<string, Tensor> = {};
        for (const [name, t] of Object.entries(inputs)) batchInputs[name] = gather(t, order, s, e);
        yield { inputs: batchInputs, labels: Int32Array.from(order.subarray(s, e), (i) => labels[i]!) };
      }
    },
  };
}
