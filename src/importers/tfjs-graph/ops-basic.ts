/** TF element-wise, reduction, reshape and matmul ops, aware of which tensors are stored NCHW. */
import { attr } from '../../onnx/builder.js';
import type { Dim } from '../../onnx/ir.js';
import { float32, int64 } from '../../tensor.js';
import { attrBool, attrInts } from './attrs.js';
import { unsupportedNode, type GraphContext, type GTensor } from './context.js';
import { channelConst, fusedEpilogue } from './ops-conv.js';
import type { TfNode } from './types.js';

const UNARY: Readonly<Record<string, string>> = {
  Identity: 'Identity',
  Relu: 'Relu',
  Sigmoid: 'Sigmoid',
  Tanh: 'Tanh',
  Elu: 'Elu',
  Exp: 'Exp',
  Sqrt: 'Sqrt',
  Neg: 'Neg',
};

export function unary(ctx: GraphContext, node: TfNode): GTensor {
  const [x] = ctx.inputs(node);
  const src = x!.value ? ctx.native(x!) : x!.name;
  if (node.op === 'Relu6') {
    const lo = ctx.b.constant('relu6_min', float32([], [0]));
    const hi = ctx.b.constant('relu6_max', float32([], [6]));
    return { name: ctx.op(node, 'Clip', [src, lo, hi], {}, true), shape: x!.shape, nchw: x!.nchw };
  }
  const op = UNARY[node.op];
  if (!op) throw unsupportedNode(node);
  return { name: ctx.op(node, op, [src], {}, true), shape: x!.shape, nchw: x!.nchw };
}

export function softmax(ctx: GraphContext, node: TfNode): GTensor {
  const [x] = ctx.inputs(node);
  const axis = x!.nchw ? 1 : -1;
  const src = x!.nchw ? x!.name : ctx.native(x!);
  return {
    name: ctx.op(node, 'Softmax', [src], { axis: attr.int(axis) }, true),
    shape: x!.shape,
    nchw: x!.nchw,
  };
}

function broadcast(a: readonly Dim[] | undefined, b: readonly Dim[] | undefined): Dim[] | undefined {
  if (!a || !b) return undefined;
  const r = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < r; i++) {
    const ia = a.length - r + i;
    const ib = b.length - r + i;
    const x = ia >= 0 ? a[ia]! : 1;
    const y = ib >= 0 ? b[ib]! : 1;
    out.push(x === 1 ? y : y === 1 ? x : (x ?? y));
  }
  return out;
}

const BINARY: Readonly<Record<string, string>> = {
  Add: 'Add',
  AddV2: 'Add',
  BiasAdd: 'Add',
  Sub: 'Sub',
  Mul: 'Mul',
  RealDiv: 'Div',
  Maximum: 'Max',
  Minimum: 'Min',
};

const isScalar = (t: GTensor): boolean => t.value !== undefined && t.value.data.length === 1;

/** Picks NCHW when a rank-4 operand already is, converting the other operand to match. */
export function binary(ctx: GraphContext, node: TfNode): GTensor {
  const op = BINARY[node.op];
  if (!op) throw unsupportedNode(node);
  const [a, b] = ctx.inputs(node) as [GTensor, GTensor];
  const shape = broadcast(a.shape, b.shape);
  const useNchw = (a.nchw || b.nchw) && shape?.length === 4;
  const arg = (t: GTensor): string => {
    if (!useNchw) return ctx.native(t);
    if (t.nchw) return t.name;
    if (isScalar(t)) return ctx.native(t);
    if (t.value && t.value.shape.length === 1) return channelConst(ctx, t, '');
    if (t.shape?.length === 4) return ctx.nchw(t);
    throw unsupportedNode(node, 'broadcasting a non-constant against an NCHW tensor');
  };
  const y = ctx.op(node, op, [arg(a), arg(b)], {}, true);
  return { name: y, shape, nchw: useNchw };
}

function constInts(node: TfNode, t: GTensor | undefined): number[] {
  if (!t?.value) throw unsupportedNode(node, 'a non-constant shape/axes input');
  return Array.from(t.value.data as ArrayLike<number | bigint>, Number);
}

/** Axes over a rank-4 NCHW tensor when they reduce/squeeze exactly the spatial axes (order-safe). */
function spatialAxes(t: GTensor, axes: readonly number[]): number[] | undefined {
  if (!t.nchw) return undefined;
  const norm = new Set(axes.map((a) => (a < 0 ? a + 4 : a)));
  return norm.size === 2 && norm.has(1) && norm.has(2) ? [2, 3] : undefined;
}

export function squeeze(ctx: GraphContext, node: TfNode): GTensor {
  const [x] = ctx.inputs(node);
  const dims = attrInts(node, 'squeeze_dims', attrInts(node, 'axis'));
  const shape = x!.shape;
  const rank = shape?.length;
  const all = dims.length > 0 ? dims : (shape ?? []).flatMap((d, i) => (d === 1 ? [i] : []));
  if (all.length === 0 || rank === undefined) throw unsupportedNode(node, 'squeezing dims of unknown shape');
  const norm = all.map((a) => (a < 0 ? a + rank : a));
  const outShape = shape!.filter((_, i) => !norm.includes(i));
  const spatial = spatialAxes(x!, norm);
  const src = spatial ? x!.name : ctx.native(x!);
  const axes = ctx.b.constant(`${ctx.onnxName(node.name)}/axes`, int64([norm.length], spatial ?? norm));
  return { name: ctx.op(node, 'Squeeze', [src, axes], {}, true), shape: outShape, nchw: false };
}

export function mean(ctx: GraphContext, node: TfNode, op: 'ReduceMean' | 'ReduceMax' | 'ReduceSum'): GTensor {
  const [x, axesT] = ctx.inputs(node);
  const rank = x!.shape?.length;
  if (rank === undefined) throw unsupportedNode(node, 'reducing a tensor of unknown rank');
  const axes = constInts(node, axesT).map((a) => (a < 0 ? a + rank : a));
  const keep = attrBool(node, 'keep_dims', attrBool(node, 'keepdims', false));
  const spatial = spatialAxes(x!, axes);
  const src = spatial ? x!.name : ctx.native(x!);
  const attrs = { axes: attr.ints(spatial ?? axes), keepdims: attr.int(keep ? 1 : 0) };
  const shape = keep
    ? x!.shape!.map((d, i) => (axes.includes(i) ? 1 : d))
    : x!.shape!.filter((_, i) => !axes.includes(i));
  return { name: ctx.op(node, op, [src], attrs, true), shape, nchw: spatial !== undefined && keep };
}

export function reshape(ctx: GraphContext, node: TfNode): GTensor {
  const [x, shapeT] = ctx.inputs(node);
  const target = constInts(node, shapeT);
  const shapeInit = ctx.b.constant(`${ctx.onnxName(node.name)}/shape`, int64([target.length], target));
  const y = ctx.op(node, 'Reshape', [ctx.native(x!), shapeInit], {}, true);
  return { name: y, shape: target.map((d) => (d < 0 ? null : d)), nchw: false };
}

export function matmul(ctx: GraphContext, node: TfNode, fused: boolean): GTensor {
  const [a, b, ...args] = ctx.inputs(node) as [GTensor, GTensor, ...GTensor[]];
  const ta = attrBool(node, 'transpose_a', false);
  const tb = attrBool(node, 'transpose_b', false);
  if (a.shape?.length !== 2 && a.shape !== undefined)
    throw unsupportedNode(node, `rank-${a.shape.length} input`);
  const ops = fused ? (node.attr?.['fused_ops']?.list?.s ?? []) : [];
  const attrs = { transA: attr.int(ta ? 1 : 0), transB: attr.int(tb ? 1 : 0) };
  let y = ctx.op(node, 'Gemm', [ctx.native(a), ctx.native(b)], attrs, ops.length === 0);
  if (ops.length > 0) y = fusedEpilogue(ctx, node, y, args, (t) => ctx.native(t));
  const rows = a.shape?.[ta ? 1 : 0] ?? null;
  const cols = b.shape?.[tb ? 0 : 1] ?? b.value?.shape[tb ? 0 : 1] ?? null;
  return { name: y, shape: [rows, cols], nchw: false };
}
