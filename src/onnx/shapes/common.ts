/** Shared types and dimension arithmetic for shape inference. */
import type { DType } from '../../tensor.js';
import type { Dim, Node } from '../ir.js';

/** What is known about a value: element type, shape (undefined = unknown rank) and, for small tensors, contents. */
export interface TypeInfo {
  dtype?: DType;
  shape?: Dim[];
  /** Flattened contents of a small constant tensor (shape subgraphs); elements may be symbolic or unknown. */
  value?: Dim[];
}

export interface InferContext {
  /** What is known about a value ('' and unknown names give undefined). */
  info(name: string | undefined): TypeInfo | undefined;
  /** Default-domain opset of the model. */
  opset: number;
}

/** Infers a node's outputs, in order; undefined entries are unknown. */
export type ShapeRule = (node: Node, ctx: InferContext) => (TypeInfo | undefined)[];

export const isNum = (d: Dim | undefined): d is number => typeof d === 'number';

export function attrInt(node: Node, name: string, fallback: number): number {
  const a = node.attrs[name];
  return a?.type === 'int' ? a.value : fallback;
}

export function attrInts(node: Node, name: string): number[] | undefined {
  const a = node.attrs[name];
  return a?.type === 'ints' ? a.value : undefined;
}

export function attrString(node: Node, name: string, fallback: string): string {
  const a = node.attrs[name];
  return a?.type === 'string' ? a.value : fallback;
}

/** A constant integer list from a value's known contents, when every element is a number. */
export function constInts(ctx: InferContext, name: string | undefined): number[] | undefined {
  const v = ctx.info(name)?.value;
  return v && v.every(isNum) ? (v as number[]) : undefined;
}

export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** Product of dims: a number when all are numbers; a symbol when exactly one symbol and the rest are 1. */
export function productDim(dims: readonly Dim[]): Dim {
  let n = 1;
  const syms: Dim[] = [];
  for (const d of dims) {
    if (isNum(d)) n *= d;
    else syms.push(d);
  }
  if (syms.length === 0) return n;
  if (n === 0) return 0;
  if (syms.length === 1 && n === 1) return syms[0]!;
  return null;
}

export function addDims(a: Dim, b: Dim): Dim {
  return isNum(a) && isNum(b) ? a + b : null;
}

/** NumPy broadcasting over shapes; undefined when any rank is unknown. */
export function broadcast(shapes: readonly (readonly Dim[] | undefined)[]): Dim[] | undefined {
  if (shapes.some((s) => s === undefined)) return undefined;
  const list = shapes as readonly (readonly Dim[])[];
  const rank = Math.max(0, ...list.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const dims = list.map((s) => s[s.length - rank + i]).filter((d) => d !== undefined && d !== 1) as Dim[];
    const nums = dims.filter(isNum);
    if (nums.length > 0) out.push(nums[0]!);
    else if (dims.length === 0) out.push(1);
    else if (dims.every((d) => d === dims[0] && d !== null)) out.push(dims[0]!);
    else out.push(null);
  }
  return out;
}

export function same(info: TypeInfo | undefined): TypeInfo | undefined {
  return info ? { dtype: info.dtype, shape: info.shape } : undefined;
}

/** Shape with the given axes set to 1 (keepdims) or removed. */
export function reduceShape(shape: readonly Dim[], axes: readonly number[], keep: boolean): Dim[] {
  const set = new Set(axes.map((a) => normAxis(a, shape.length)));
  const out: Dim[] = [];
  shape.forEach((d, i) => {
    if (!set.has(i)) out.push(d);
    else if (keep) out.push(1);
  });
  return out;
}

/** Numeric value of a constant element for folding, or undefined. */
export function numbers(info: TypeInfo | undefined): number[] | undefined {
  const v = info?.value;
  return v && v.every(isNum) ? (v as number[]) : undefined;
}

/** Elements of small values are tracked only up to this count. */
export const MAX_TRACKED = 64;

export function withValue(info: TypeInfo, value: Dim[] | undefined): TypeInfo {
  return value && value.length <= MAX_TRACKED ? { ...info, value } : info;
}
