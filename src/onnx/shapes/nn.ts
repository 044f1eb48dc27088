/** Neural-network ops: convolutions, pooling, normalisation, matrix products, losses. */
import type { Dim, Node } from '../ir.js';
import {
  attrInt,
  attrInts,
  attrString,
  broadcast,
  isNum,
  normAxis,
  same,
  type InferContext,
  type ShapeRule,
  type TypeInfo,
} from './common.js';

interface Window {
  kernel: Dim[];
  strides: number[];
  dilations: number[];
  pads: number[];
  autoPad: string;
  ceil: boolean;
}

function windowOf(node: Node, spatial: number, kernel: Dim[] | undefined): Window | undefined {
  const k = attrInts(node, 'kernel_shape') ?? kernel;
  if (!k || k.length !== spatial) return undefined;
  return {
    kernel: k,
    strides: attrInts(node, 'strides') ?? new Array<number>(spatial).fill(1),
    dilations: attrInts(node, 'dilations') ?? new Array<number>(spatial).fill(1),
    pads: attrInts(node, 'pads') ?? new Array<number>(2 * spatial).fill(0),
    autoPad: attrString(node, 'auto_pad', 'NOTSET'),
    ceil: attrInt(node, 'ceil_mode', 0) === 1,
  };
}

/** Output size of a sliding window along one axis (ONNX Conv/Pool semantics as ONNX Runtime computes them). */
function windowDim(w: Window, i: number, input: Dim): Dim {
  const k = w.kernel[i];
  const s = w.strides[i]!;
  if (!isNum(input) || !isNum(k)) return null;
  const span = (k - 1) * w.dilations[i]! + 1;
  if (w.autoPad === 'SAME_UPPER' || w.autoPad === 'SAME_LOWER') return Math.ceil(input / s);
  if (w.autoPad === 'VALID') return Math.floor((input - span) / s) + 1;
  const begin = w.pads[i]!;
  const padded = input + begin + w.pads[i + w.kernel.length]!;
  if (!w.ceil) return Math.floor((padded - span) / s) + 1;
  let out = Math.ceil((padded - span) / s) + 1;
  // The last window must start inside the input or the leading padding.
  if ((out - 1) * s >= input + begin) out--;
  return out;
}

function windowed(
  node: Node,
  ctx: InferContext,
  channels: (x: Dim[]) => Dim,
  kernel?: Dim[],
): TypeInfo | undefined {
  const x = ctx.info(node.inputs[0]);
  if (!x?.shape || x.shape.length < 3) return x ? { dtype: x.dtype } : undefined;
  const spatial = x.shape.slice(2);
  const w = windowOf(node, spatial.length, kernel);
  if (!w) return { dtype: x.dtype, shape: [x.shape[0]!, channels(x.shape), ...spatial.map(() => null)] };
  return {
    dtype: x.dtype,
    shape: [x.shape[0]!, channels(x.shape), ...spatial.map((d, i) => windowDim(w, i, d))],
  };
}

const conv: ShapeRule = (node, ctx) => {
  const wShape = ctx.info(node.inputs[1])?.shape;
  return [windowed(node, ctx, () => wShape?.[0] ?? null, wShape?.slice(2))];
};

const pool: ShapeRule = (node, ctx) => {
  const out = windowed(node, ctx, (x) => x[1]!);
  return [out, out ? { dtype: 'int64', shape: out.shape } : undefined];
};

const convTranspose: ShapeRule = (node, ctx) => {
  const x = ctx.info(node.inputs[0]);
  const wShape = ctx.info(node.inputs[1])?.shape;
  if (!x?.shape || x.shape.length < 3) return [x ? { dtype: x.dtype } : undefined];
  const spatial = x.shape.slice(2);
  const group = attrInt(node, 'group', 1);
  const m = wShape?.[1];
  const channels = isNum(m) ? m * group : null;
  const w = windowOf(node, spatial.length, wShape?.slice(2));
  const given = attrInts(node, 'output_shape');
  const outPad = attrInts(node, 'output_padding') ?? new Array<number>(spatial.length).fill(0);
  const dims = spatial.map((d, i): Dim => {
    if (given) return given[given.length - spatial.length + i] ?? null;
    const k = w?.kernel[i];
    if (!w || !isNum(d) || !isNum(k)) return null;
    const s = w.strides[i]!;
    if (w.autoPad === 'SAME_UPPER' || w.autoPad === 'SAME_LOWER') return d * s;
    const full = s * (d - 1) + outPad[i]! + (k - 1) * w.dilations[i]! + 1;
    return w.autoPad === 'VALID' ? full : full - w.pads[i]! - w.pads[i + spatial.length]!;
  });
  return [{ dtype: x.dtype, shape: [x.shape[0]!, channels, ...dims] }];
};

const globalPool: ShapeRule = (node, ctx) => {
  const x = ctx.info(node.inputs[0]);
  if (!x?.shape) return [x ? { dtype: x.dtype } : undefined];
  return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (i < 2 ? d : 1)) }];
};

const gemm: ShapeRule = (node, ctx) => {
  const a = ctx.info(node.inputs[0]);
  const b = ctx.info(node.inputs[1])?.shape;
  const m = a?.shape?.length === 2 ? a.shape[attrInt(node, 'transA', 0) ? 1 : 0]! : null;
  const n = b?.length === 2 ? b[attrInt(node, 'transB', 0) ? 0 : 1]! : null;
  return [{ dtype: a?.dtype, shape: [m, n] }];
};

/** numpy.matmul: 1-D operands are promoted and the added dims dropped; batch dims broadcast. */
export function matmulShape(a: Dim[] | undefined, b: Dim[] | undefined): Dim[] | undefined {
  if (!a || !b || a.length === 0 || b.length === 0) return undefined;
  const a2 = a.length === 1 ? [1, a[0]!] : a;
  const b2 = b.length === 1 ? [b[0]!, 1] : b;
  const batch = broadcast([a2.slice(0, -2), b2.slice(0, -2)])!;
  const out = [...batch];
  if (a.length > 1) out.push(a2[a2.length - 2]!);
  if (b.length > 1) out.push(b2[b2.length - 1]!);
  return out;
}

const matmul: ShapeRule = (node, ctx) => {
  const a = ctx.info(node.inputs[0]);
  return [{ dtype: a?.dtype, shape: matmulShape(a?.shape, ctx.info(node.inputs[1])?.shape) }];
};

const batchNorm: ShapeRule = (node, ctx) => {
  const x = ctx.info(node.inputs[0]);
  const c = ctx.info(node.inputs[1]);
  const stat = c ? { dtype: c.dtype, shape: c.shape } : undefined;
  return [same(x), stat, stat, stat, stat];
};

const layerNorm: ShapeRule = (node, ctx) => {
  const x = ctx.info(node.inputs[0]);
  if (!x?.shape) return [same(x)];
  const axis = normAxis(attrInt(node, 'axis', -1), x.shape.length);
  const stat = { dtype: 'float32' as const, shape: x.shape.map((d, i) => (i < axis ? d : 1)) };
  return [same(x), stat, stat];
};

const loss: ShapeRule = (node, ctx) => {
  const scores = ctx.info(node.inputs[0]);
  const reduction = attrString(node, 'reduction', 'mean');
  const shape = scores?.shape;
  const perItem = shape && shape.length >= 2 ? [shape[0]!, ...shape.slice(2)] : undefined;
  const out: TypeInfo = { dtype: scores?.dtype, shape: reduction === 'none' ? perItem : [] };
  return [out, same(scores)];
};

export const nnRules: Record<string, ShapeRule> = {
  Conv: conv,
  ConvTranspose: convTranspose,
  MaxPool: pool,
  AveragePool: pool,
  LpPool: pool,
  GlobalAveragePool: globalPool,
  GlobalMaxPool: globalPool,
  GlobalLpPool: globalPool,
  Gemm: gemm,
  MatMul: matmul,
  BatchNormalization: batchNorm,
  LayerNormalization: layerNorm,
  SoftmaxCrossEntropyLoss: loss,
  NegativeLogLikelihoodLoss: (node, ctx) => [loss(node, ctx)[0]],
};
