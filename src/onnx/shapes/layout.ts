/** Ops that rearrange dims: Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Concat, Split, Expand, Tile. */
import type { Dim } from '../ir.js';
import {
  attrInt,
  attrInts,
  broadcast,
  constInts,
  isNum,
  MAX_TRACKED,
  normAxis,
  productDim,
  withValue,
  type ShapeRule,
  type TypeInfo,
} from './common.js';

/** Reshape's target: 0 copies the input dim (unless allowzero), -1 is solved from the element count. */
export function reshapeDims(input: Dim[] | undefined, target: Dim[], allowZero: boolean): Dim[] {
  const out = target.map((d, i): Dim => (d === 0 && !allowZero ? (input?.[i] ?? null) : d));
  const free = out.indexOf(-1);
  if (free < 0) return out;
  out[free] = null;
  if (!input) return out;
  // Cancel dims that appear on both sides (numbers and symbols), then solve for what is left.
  const rest = out.filter((_, i) => i !== free);
  const left = [...input];
  const right: Dim[] = [];
  for (const d of rest) {
    const j = d === null ? -1 : left.indexOf(d);
    if (j >= 0) left.splice(j, 1);
    else right.push(d);
  }
  const l = productDim(left);
  const r = productDim(right);
  if (right.length === 0) out[free] = l;
  else if (isNum(l) && isNum(r) && r !== 0) out[free] = l / r;
  return out;
}

const reshape: ShapeRule = (node, ctx) => {
  const x = ctx.info(node.inputs[0]);
  const target = ctx.info(node.inputs[1])?.value ?? attrInts(node, 'shape');
  const n = ctx.info(node.inputs[1])?.shape?.[0];
  const allowZero = attrInt(node, 'allowzero', 0) === 1;
  const shape = target
    ? reshapeDims(x?.shape, target, allowZero)
    : isNum(n)
      ? new Array<Dim>(n).fill(null)
      : undefined;
  return [withValue({ dtype: x?.dtype, shape }, x?.value)];
};

const flatten: ShapeRule = (node, ctx) => {
  const x = ctx.info(node.inputs[0]);
  if (!x?.shape) return [{ dtype: x?.dtype, shape: [null, null] }];
  const axis = normAxis(attrInt(node, 'axis', 1), x.shape.length);
  return [{ dtype: x.dtype, shape: [productDim(x.shape.slice(0, axis)), productDim(x.shape.slice(axis))] }];
};

const transpose: ShapeRule = (node, ctx) => {
  const x = ctx.info(node.inputs[0]);
  if (!x?.shape) return [x ? { dtype: x.dtype } : undefined];
  const rank = x.shape.length;
  const perm = attrInts(node, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  return [{ dtype: x.dtype, shape: perm.map((p) => x.shape![normAxis(p, rank)] ?? null) }];
};

/** Axes from the attribute (older opsets) or from a constant second input. */
function axesOf(
  node: Parameters<ShapeRule>[0],
  ctx: Parameters<ShapeRule>[1],
): number[] | undefined | 'unknown' {
  const fromAttr = attrInts(node, 'axes');
  if (fromAttr) return fromAttr;
  if (!node.inputs[1]) return undefined;
  return constInts(ctx, node.inputs[1]) ?? 'unknown';
}

const squeeze: ShapeRule = (node, ctx) => {
  const x = ctx.info(node.inputs[0]);
  const axes = axesOf(node, ctx);
  if (!x?.shape || axes === 'unknown') return [x ? { dtype: x.dtype } : undefined];
  const rank = x.shape.length;
  if (axes === undefined) {
    if (x.shape.some((d) => d === null)) return [{ dtype: x.dtype }];
    return [withValue({ dtype: x.dtype, shape: x.shape.filter((d) => d !== 1) }, x.value)];
  }
  const set = new Set(axes.map((a) => normAxis(a, rank)));
  return [withValue({ dtype: x.dtype, shape: x.shape.filter((_, i) => !set.has(i)) }, x.value)];
};

const unsqueeze: ShapeRule = (node, ctx) => {
  const x = ctx.info(node.inputs[0]);
  const axes = axesOf(node, ctx);
  if (!x?.shape || axes === undefined) return [x ? { dtype: x.dtype } : undefined];
  if (axes === 'unknown') {
    const n = ctx.info(node.inputs[1])?.shape?.[0];
    return [{ dtype: x.dtype, shape: isNum(n) ? new Array<Dim>(x.shape.length + n).fill(null) : undefined }];
  }
  const rank = x.shape.length + axes.length;
  const set = new Set(axes.map((a) => normAxis(a, rank)));
  const shape: Dim[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) shape.push(set.has(i) ? 1 : x.shape[k++]!);
  return [withValue({ dtype: x.dtype, shape }, x.value)];
};

const concat: ShapeRule = (node, ctx) => {
  const infos = node.inputs.map((i) => ctx.info(i));
  const dtype = infos.find((i) => i?.dtype)?.dtype;
  const shapes = infos.map((i) => i?.shape);
  const known = shapes.find((s) => s !== undefined);
  if (!known) return [{ dtype }];
  const axis = normAxis(attrInt(node, 'axis', 0), known.length);
  const shape = known.map((_, i): Dim => {
    if (i !== axis) {
      const nums = shapes.map((s) => s?.[i]).filter(isNum);
      return nums[0] ?? shapes.map((s) => s?.[i]).find((d) => d !== undefined && d !== null) ?? null;
    }
    return shapes.reduce<Dim>((sum, s) => (isNum(sum) && s && isNum(s[axis]) ? sum + s[axis] : null), 0);
  });
  const values = infos.map((i) => i?.value);
  const value = values.every((v) => v !== undefined) ? (values as Dim[][]).flat() : undefined;
  return [withValue({ dtype, shape }, known.length === 1 ? value : undefined)];
};

const split: ShapeRule = (node, ctx) => {
  const x = ctx.info(node.inputs[0]);
  const count = node.outputs.length;
  if (!x?.shape) return node.outputs.map(() => (x ? { dtype: x.dtype } : undefined));
  const axis = normAxis(attrInt(node, 'axis', 0), x.shape.length);
  const dim = x.shape[axis]!;
  let sizes: Dim[] | undefined =
    attrInts(node, 'split') ?? (node.inputs[1] ? constInts(ctx, node.inputs[1]) : undefined);
  if (!sizes && node.inputs[1]) sizes = new Array<Dim>(count).fill(null);
  if (!sizes) {
    const chunk = isNum(dim) ? Math.ceil(dim / count) : null;
    sizes = Array.from({ length: count }, (_, i): Dim =>
      isNum(chunk) && isNum(dim) ? Math.max(0, Math.min(chunk, dim - chunk * i)) : null,
    );
  }
  const value = x.value;
  let offset = 0;
  return sizes.map((s) => {
    const shape = x.shape!.map((d, i) => (i === axis ? s : d));
    const part = value && isNum(s) && x.shape!.length === 1 ? value.slice(offset, offset + s) : undefined;
    offset += isNum(s) ? s : 0;
    return withValue({ dtype: x.dtype, shape }, part);
  });
};

const expand: ShapeRule = (node, ctx) => {
  const x = ctx.info(node.inputs[0]);
  const target = ctx.info(node.inputs[1]);
  const dims = target?.value;
  const len = target?.shape?.[0];
  const shape = dims ? broadcast([x?.shape, dims.map((d) => (d === -1 ? 1 : d))]) : undefined;
  const rankOnly =
    !dims && isNum(len) && x?.shape ? new Array<Dim>(Math.max(len, x.shape.length)).fill(null) : undefined;
  const size = shape ? productDim(shape) : null;
  const fill = x?.value?.length === 1 ? x.value[0]! : undefined;
  const value =
    isNum(size) && size <= MAX_TRACKED && fill !== undefined ? new Array<Dim>(size).fill(fill) : undefined;
  return [withValue({ dtype: x?.dtype, shape: shape ?? rankOnly }, value)];
};

const tile: ShapeRule = (node, ctx) => {
  const x = ctx.info(node.inputs[0]);
  const reps = constInts(ctx, node.inputs[1]);
  if (!x?.shape || !reps) return [x ? { dtype: x.dtype, shape: x.shape?.map(() => null) } : undefined];
  return [
    { dtype: x.dtype, shape: x.shape.map((d, i) => (reps[i] === 1 ? d : isNum(d) ? d * reps[i]! : null)) },
  ];
};

export const layoutRules: Record<string, ShapeRule> = {
  Reshape: reshape,
  Flatten: flatten,
  Transpose: transpose,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Concat: concat,
  Split: split,
  Expand: expand,
  Tile: tile,
};

export type { TypeInfo };
