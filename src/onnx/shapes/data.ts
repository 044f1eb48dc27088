/** Ops that select or produce data: Slice, Pad, Gather, reductions, Shape, Size, ConstantOfShape, Range, Constant. */
import type { Tensor } from '../../tensor.js';
import type { Attribute, Dim, Node } from '../ir.js';
import {
  attrInt,
  attrInts,
  constInts,
  isNum,
  MAX_TRACKED,
  normAxis,
  numbers,
  productDim,
  reduceShape,
  withValue,
  type InferContext,
  type ShapeRule,
  type TypeInfo,
} from './common.js';

const BIG = 2 ** 31 - 1;

/** One axis of Slice: [start, end) with step, clamped as ONNX specifies. Returns [length, first index]. */
function sliceAxis(dim: Dim, start: number, end: number, step: number): [Dim, number] {
  if (!isNum(dim)) return start === 0 && step === 1 && end >= BIG ? [dim, 0] : [null, 0];
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
    return [Math.max(0, Math.ceil((e - s) / step)), s];
  }
  s = Math.min(Math.max(s, 0), dim - 1);
  e = Math.min(Math.max(e, -1), dim - 1);
  return [Math.max(0, Math.ceil((s - e) / -step)), s];
}

const slice: ShapeRule = (node, ctx) => {
  const x = ctx.info(node.inputs[0]);
  const attrForm = node.inputs.length === 1;
  const starts = attrForm ? attrInts(node, 'starts') : constInts(ctx, node.inputs[1]);
  const ends = attrForm ? attrInts(node, 'ends') : constInts(ctx, node.inputs[2]);
  const axesIn = attrForm
    ? attrInts(node, 'axes')
    : node.inputs[3]
      ? constInts(ctx, node.inputs[3])
      : undefined;
  const stepsIn = !attrForm && node.inputs[4] ? constInts(ctx, node.inputs[4]) : undefined;
  if (!x?.shape) return [x ? { dtype: x.dtype } : undefined];
  const rank = x.shape.length;
  const axesKnown = attrForm || !node.inputs[3] || axesIn !== undefined;
  const stepsKnown = attrForm || !node.inputs[4] || stepsIn !== undefined;
  if (!starts || !ends || !axesKnown || !stepsKnown) {
    return [{ dtype: x.dtype, shape: x.shape.map(() => null) }];
  }
  const axes = (axesIn ?? starts.map((_, i) => i)).map((a) => normAxis(a, rank));
  const shape = [...x.shape];
  let value = x.value;
  axes.forEach((axis, i) => {
    const step = stepsIn?.[i] ?? 1;
    const [len, first] = sliceAxis(x.shape![axis]!, starts[i]!, ends[i]!, step);
    shape[axis] = len;
    if (value && rank === 1 && isNum(len))
      value = Array.from({ length: len }, (_, k) => value![first + k * step]!);
    else value = undefined;
  });
  return [withValue({ dtype: x.dtype, shape }, value)];
};

const pad: ShapeRule = (node, ctx) => {
  const x = ctx.info(node.inputs[0]);
  if (!x?.shape) return [x ? { dtype: x.dtype } : undefined];
  const rank = x.shape.length;
  const pads = attrInts(node, 'pads') ?? attrInts(node, 'paddings') ?? constInts(ctx, node.inputs[1]);
  const axesIn = node.inputs[3] ? constInts(ctx, node.inputs[3]) : undefined;
  if (!pads || (node.inputs[3] && !axesIn)) return [{ dtype: x.dtype, shape: x.shape.map(() => null) }];
  const axes = (axesIn ?? x.shape.map((_, i) => i)).map((a) => normAxis(a, rank));
  const shape = [...x.shape];
  axes.forEach((axis, i) => {
    const d = shape[axis]!;
    const extra = pads[i]! + pads[i + axes.length]!;
    shape[axis] = extra === 0 ? d : isNum(d) ? d + extra : null;
  });
  return [{ dtype: x.dtype, shape }];
};

const gather: ShapeRule = (node, ctx) => {
  const data = ctx.info(node.inputs[0]);
  const idx = ctx.info(node.inputs[1]);
  if (!data?.shape || !idx?.shape) return [data ? { dtype: data.dtype } : undefined];
  const axis = normAxis(attrInt(node, 'axis', 0), data.shape.length);
  const shape = [...data.shape.slice(0, axis), ...idx.shape, ...data.shape.slice(axis + 1)];
  const at = numbers(idx);
  let value: Dim[] | undefined;
  if (data.value && data.shape.length === 1 && at) {
    const n = data.value.length;
    value = at.map((i) => data.value![i < 0 ? i + n : i] ?? null);
  }
  return [withValue({ dtype: data.dtype, shape }, value)];
};

const reduce: ShapeRule = (node, ctx) => {
  const x = ctx.info(node.inputs[0]);
  if (!x?.shape) return [x ? { dtype: x.dtype } : undefined];
  const keep = attrInt(node, 'keepdims', 1) === 1;
  let axes = attrInts(node, 'axes');
  if (!axes && node.inputs[1]) {
    axes = constInts(ctx, node.inputs[1]);
    if (!axes) return [{ dtype: x.dtype, shape: keep ? x.shape.map(() => null) : undefined }];
  }
  if (!axes || axes.length === 0) {
    if (attrInt(node, 'noop_with_empty_axes', 0) === 1) return [{ dtype: x.dtype, shape: x.shape }];
    axes = x.shape.map((_, i) => i);
  }
  return [{ dtype: x.dtype, shape: reduceShape(x.shape, axes, keep) }];
};

const argReduce: ShapeRule = (node, ctx) => {
  const x = ctx.info(node.inputs[0]);
  if (!x?.shape) return [{ dtype: 'int64' }];
  const keep = attrInt(node, 'keepdims', 1) === 1;
  return [{ dtype: 'int64', shape: reduceShape(x.shape, [attrInt(node, 'axis', 0)], keep) }];
};

const shapeOp: ShapeRule = (node, ctx) => {
  const x = ctx.info(node.inputs[0])?.shape;
  if (!x) return [{ dtype: 'int64', shape: [null] }];
  const clampAxis = (a: number): number => Math.min(Math.max(normAxis(a, x.length), 0), x.length);
  const start = clampAxis(attrInt(node, 'start', 0));
  const end = clampAxis(attrInt(node, 'end', x.length));
  const dims = x.slice(start, Math.max(start, end));
  return [withValue({ dtype: 'int64', shape: [dims.length] }, dims)];
};

const size: ShapeRule = (node, ctx) => {
  const x = ctx.info(node.inputs[0])?.shape;
  const n = x ? productDim(x) : null;
  return [withValue({ dtype: 'int64', shape: [] }, [n])];
};

/** Flattened numeric contents of a small tensor. */
export function tensorValue(t: Tensor): Dim[] | undefined {
  if (t.dtype === 'string' || t.data.length > MAX_TRACKED) return undefined;
  if (t.dtype === 'float16' || t.dtype === 'bfloat16') return undefined;
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}

export function tensorInfo(t: Tensor): TypeInfo {
  return withValue({ dtype: t.dtype, shape: [...t.shape] }, tensorValue(t));
}

const constantOfShape: ShapeRule = (node, ctx) => {
  const a = node.attrs['value'];
  const fill = a?.type === 'tensor' ? a.value : undefined;
  const dtype = fill?.dtype ?? 'float32';
  const target = ctx.info(node.inputs[0]);
  const shape =
    target?.value ?? (isNum(target?.shape?.[0]) ? new Array<Dim>(target.shape[0]).fill(null) : undefined);
  const n = shape ? productDim(shape) : null;
  const v = fill ? tensorValue(fill)?.[0] : 0;
  const value = isNum(n) && n <= MAX_TRACKED && v !== undefined ? new Array<Dim>(n).fill(v) : undefined;
  return [withValue({ dtype, shape }, value)];
};

const range: ShapeRule = (node, ctx) => {
  const [start, limit, delta] = node.inputs.map((i) => numbers(ctx.info(i))?.[0]);
  const dtype = ctx.info(node.inputs[0])?.dtype;
  if (start === undefined || limit === undefined || delta === undefined || delta === 0)
    return [{ dtype, shape: [null] }];
  const n = Math.max(Math.ceil((limit - start) / delta), 0);
  const value = n <= MAX_TRACKED ? Array.from({ length: n }, (_, i) => start + i * delta) : undefined;
  return [withValue({ dtype, shape: [n] }, value)];
};

function constantAttr(a: Attribute | undefined, name: string): TypeInfo | undefined {
  if (!a) return undefined;
  if (a.type === 'tensor') return tensorInfo(a.value);
  if (name === 'value_float' && a.type === 'float') return { dtype: 'float32', shape: [], value: [a.value] };
  if (name === 'value_int' && a.type === 'int') return { dtype: 'int64', shape: [], value: [a.value] };
  if (name === 'value_floats' && a.type === 'floats')
    return withValue({ dtype: 'float32', shape: [a.value.length] }, a.value);
  if (name === 'value_ints' && a.type === 'ints')
    return withValue({ dtype: 'int64', shape: [a.value.length] }, a.value);
  if (name === 'value_string') return { dtype: 'string', shape: [] };
  if (name === 'value_strings' && a.type === 'strings') return { dtype: 'string', shape: [a.value.length] };
  return undefined;
}

const constant: ShapeRule = (node: Node, _ctx: InferContext) => {
  for (const [name, a] of Object.entries(node.attrs)) {
    const info = constantAttr(a, name);
    if (info) return [info];
  }
  return [undefined];
};

const REDUCE = ['Mean', 'Sum', 'Max', 'Min', 'Prod', 'L1', 'L2', 'LogSum', 'LogSumExp', 'SumSquare'];

export const dataRules: Record<string, ShapeRule> = {
  ...Object.fromEntries(REDUCE.map((r): [string, ShapeRule] => [`Reduce${r}`, reduce])),
  ArgMax: argReduce,
  ArgMin: argReduce,
  Slice: slice,
  Pad: pad,
  Gather: gather,
  Shape: shapeOp,
  Size: size,
  ConstantOfShape: constantOfShape,
  Range: range,
  Constant: constant,
};
