/**
 * What the gradient rules know statically about a value: dtype and shape when declared (graph inputs,
 * initializers, value_info, Constant nodes), plus a small local propagation for shape-preserving and
 * broadcasting ops. Rules treat this as an optimisation: whenever something is unknown they emit dynamic
 * Shape-based subgraphs instead. (Replace the local propagation with onnx/shape-inference when it lands.)
 */
import type { Dim, Graph, Node } from '../onnx/ir.js';
import { dtypeFromCode } from '../onnx/tensor-proto.js';
import type { DType } from '../tensor.js';

export interface ValueType {
  dtype?: DType;
  shape?: Dim[];
}

const SAME_SHAPE = new Set([
  'Identity',
  'Relu',
  'LeakyRelu',
  'Sigmoid',
  'Tanh',
  'Exp',
  'Log',
  'Sqrt',
  'Neg',
  'Abs',
  'Reciprocal',
  'Softmax',
  'LogSoftmax',
  'Clip',
  'Dropout',
  'Erf',
  'Gelu',
  'HardSigmoid',
  'HardSwish',
  'Elu',
  'Selu',
  'Softplus',
  'Cast',
  'BatchNormalization',
  'LayerNormalization',
  'Sin',
  'Cos',
  'Floor',
  'Ceil',
  'Round',
]);
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Where', 'Sum', 'Max', 'Min', 'Mean']);

export class ShapeEnv {
  private readonly known = new Map<string, ValueType>();
  private readonly producer = new Map<string, Node>();

  constructor(graph: Graph) {
    for (const v of [...graph.inputs, ...graph.outputs, ...graph.valueInfo.values()]) {
      this.known.set(v.name, { dtype: v.dtype, shape: v.shape ? [...v.shape] : undefined });
    }
    for (const [name, t] of graph.initializers) this.known.set(name, { dtype: t.dtype, shape: [...t.shape] });
    for (const n of graph.nodes) {
      for (const o of n.outputs) if (o) this.producer.set(o, n);
      const value = n.opType === 'Constant' ? n.attrs.value : undefined;
      if (value?.type === 'tensor') {
        this.known.set(n.outputs[0]!, { dtype: value.value.dtype, shape: [...value.value.shape] });
      }
    }
  }

  /** Records a type learnt elsewhere (e.g. from full shape inference). */
  set(name: string, type: ValueType): void {
    this.known.set(name, type);
  }

  shape(name: string): Dim[] | undefined {
    return this.type(name, 0).shape;
  }

  dtype(name: string): DType | undefined {
    return this.type(name, 0).dtype;
  }

  rank(name: string): number | undefined {
    return this.shape(name)?.length;
  }

  /** The shape when every dim is a number. */
  staticShape(name: string): number[] | undefined {
    const s = this.shape(name);
    return s && s.every((d) => typeof d === 'number') ? (s as number[]) : undefined;
  }

  private type(name: string, depth: number): ValueType {
    const k = this.known.get(name);
    if (k?.shape || depth > 200) return k ?? {};
    const n = this.producer.get(name);
    const derived = n && n.outputs[0] === name ? this.derive(n, depth + 1) : undefined;
    const merged = { dtype: k?.dtype ?? derived?.dtype, shape: derived?.shape };
    if (merged.shape) this.known.set(name, merged);
    return merged;
  }

  private derive(n: Node, depth: number): ValueType | undefined {
    const first = n.inputs[0] ? this.type(n.inputs[0], depth) : {};
    if (n.opType === 'Cast') return { dtype: dtypeFromCode(Number(n.attrs.to?.value)), shape: first.shape };
    if (SAME_SHAPE.has(n.opType)) return { dtype: first.dtype, shape: first.shape };
    if (BROADCAST.has(n.opType)) {
      const types = n.inputs.filter((i) => i).map((i) => this.type(i, depth));
      const shapes = types.map((t) => t.shape);
      if (shapes.some((s) => !s)) return { dtype: types[n.opType === 'Where' ? 1 : 0]?.dtype };
      return { dtype: types[n.opType === 'Where' ? 1 : 0]?.dtype, shape: broadcastShapes(shapes as Dim[][]) };
    }
    const reduceAll = n.opType.startsWith('Reduce') && n.inputs.length < 2 && !n.attrs.axes;
    if (reduceAll && n.attrs.keepdims?.value === 0 && n.attrs.noop_with_empty_axes?.value !== 1) {
      return { dtype: first.dtype, shape: [] };
    }
    if (n.opType === 'Gemm') {
      const a = first.shape;
      const b = n.inputs[1] ? this.type(n.inputs[1], depth).shape : undefined;
      const ta = n.attrs.transA?.value === 1;
      const tb = n.attrs.transB?.value === 1;
      const m = a ? (a[ta ? 1 : 0] ?? null) : null;
      const k = b ? (b[tb ? 0 : 1] ?? null) : null;
      return { dtype: first.dtype, shape: [m, k] };
    }
    if (n.opType === 'MatMul') {
      const a = first.shape;
      const b = n.inputs[1] ? this.type(n.inputs[1], depth).shape : undefined;
      if (!a || !b || a.length < 2 || b.length < 2) return { dtype: first.dtype };
      const batch = broadcastShapes([a.slice(0, -2), b.slice(0, -2)]);
      return { dtype: first.dtype, shape: [...batch, a[a.length - 2]!, b[b.length - 1]!] };
    }
    const sameType = n.opType.startsWith('Reduce') || ['Conv', 'Flatten', 'Reshape'].includes(n.opType);
    return sameType ? { dtype: first.dtype } : {};
  }
}

/** Numpy-style broadcast of shapes; unknown dims become null. */
export function broadcastShapes(shapes: readonly (readonly Dim[])[]): Dim[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const x = s[s.length - rank + i];
      if (x === undefined || x === 1) continue;
      if (d === 1) d = x;
      else if (d !== x) d = typeof d === 'number' && typeof x === 'number' ? d : null;
    }
    out.push(d);
  }
  return out;
}
