/** graft Tensor <-> onnxruntime-node Tensor, without copying data. */
import * as ort from 'onnxruntime-node';
import type { DType, Tensor, TensorData } from '../tensor.js';

export function toOrt(t: Tensor): ort.Tensor {
  return new ort.Tensor(t.dtype as ort.Tensor.Type, t.data as ort.Tensor.DataType, t.shape as number[]);
}

export function fromOrt(t: ort.Tensor): Tensor {
  return { dtype: t.type as DType, shape: [...t.dims], data: t.data as TensorData };
}
