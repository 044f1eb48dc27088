/** graft Tensor <-> onnxruntime-node Tensor, without copying data. */
import * as ort from 'onnxruntime-node';
import type { DType, Tensor, TensorData } from '../tensor.js';

export function toOrt(t: Tensor): ort.Tensor {
  return new ort.Tensor(t.dtype as ort.Tensor.Type, t.data as ort.Tensor.DataType, t.shape as number[]);
}

export function fromOrt(t: ort.Tensor): Tensor {
  return { dtype: t.type as DType, shape: [...t.dims], data: t.data as TensorData };
}

/** One InferenceSession.run on graft tensors (all outputs when `outputNames` is not given). */
export async function runOrt(
  session: ort.InferenceSession,
  feeds: Record<string, Tensor>,
  outputNames?: readonly string[],
): Promise<Record<string, Tensor>> {
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [k, t] of Object.entries(feeds)) ortFeeds[k] = toOrt(t);
  const result = outputNames ? await session.run(ortFeeds, [...outputNames]) : await session.run(ortFeeds);
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(result)) out[k] = fromOrt(t);
  return out;
}
