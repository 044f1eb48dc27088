/** Runs a session over inputs larger than one batch, slicing along dim 0 (last partial batch included). */
import { GraftError } from '../errors.js';
import { allocate, sizeOf, type DType, type Tensor, type TensorData } from '../tensor.js';
import type { Feeds, Session } from './session.js';

export interface BatchRunOptions {
  batchSize: number;
  outputNames?: readonly string[];
  onBatch?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Data of a numeric tensor (everything but strings). */
export type NumericData = Exclude<TensorData, string[]>;

export function sliceBatch(t: Tensor, start: number, end: number): Tensor {
  const row = sizeOf(t.shape.slice(1));
  const data = (t.data as NumericData).subarray(start * row, end * row) as TensorData;
  return { dtype: t.dtype, shape: [end - start, ...t.shape.slice(1)], data };
}

/** The parts stacked along dim 0, into data from `allocateData` (default: a fresh array). */
export function concatBatches(
  parts: readonly Tensor[],
  allocateData: (dtype: Exclude<DType, 'string'>, length: number) => NumericData = (dtype, length) =>
    allocate(dtype, length) as NumericData,
): Tensor {
  const first = parts[0]!;
  const rows = parts.reduce((n, p) => n + p.shape[0]!, 0);
  const shape = [rows, ...first.shape.slice(1)];
  if (first.dtype === 'string')
    return { dtype: 'string', shape, data: parts.flatMap((p) => p.data as string[]) };
  const out = allocateData(first.dtype, sizeOf(shape));
  let offset = 0;
  for (const p of parts) {
    const d = p.data as NumericData;
    (out as Float32Array).set(d as Float32Array, offset);
    offset += d.length;
  }
  return { dtype: first.dtype, shape, data: out };
}

export async function runBatched(
  session: Session,
  feeds: Feeds,
  options: BatchRunOptions,
): Promise<Record<string, Tensor>> {
  const entries = Object.entries(feeds);
  const n = entries[0]?.[1].shape[0] ?? 0;
  for (const [name, t] of entries) {
    if (t.shape[0] !== n)
      throw new GraftError('SHAPE_MISMATCH', `input '${name}' has ${t.shape[0]} rows, expected ${n}`);
  }
  const collected: Record<string, Tensor[]> = {};
  for (let start = 0; start < n; start += options.batchSize) {
    if (options.signal?.aborted) throw new GraftError('CANCELLED', 'batched run cancelled');
    const end = Math.min(n, start + options.batchSize);
    const batch: Feeds = {};
    for (const [name, t] of entries) batch[name] = sliceBatch(t, start, end);
    const out = await session.run(batch, options.outputNames);
    for (const [k, t] of Object.entries(out)) (collected[k] ??= []).push(t);
    options.onBatch?.(end, n);
  }
  return Object.fromEntries(Object.entries(collected).map(([k, parts]) => [k, concatBatches(parts)]));
}
