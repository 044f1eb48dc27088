/** Opset-aware node emission for gradient rules: constants, reductions, reshapes, broadcast reduction. */
import { GraftError } from '../errors.js';
import { attr, type GraphBuilder } from '../onnx/builder.js';
import type { Attribute, Dim, Graph } from '../onnx/ir.js';
import { codeFromDtype } from '../onnx/tensor-proto.js';
import type { DType, Tensor } from '../tensor.js';
import type { ShapeEnv } from './shapes.js';

export type FloatDType = 'float32' | 'float64' | 'float16';

/** Numbers of a constant tensor (initializer or Constant node), or undefined when not constant. */
export function constantValues(graph: Graph, name: string): number[] | undefined {
  const t = constantTensor(graph, name);
  if (!t || t.dtype === 'string') return undefined;
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}

function constantTensor(graph: Graph, name: string): Tensor | undefined {
  const init = graph.initializers.get(name);
  if (init) return graph.inputs.some((v) => v.name === name) ? undefined : init;
  const node = graph.nodes.find((n) => n.opType === 'Constant' && n.outputs[0] === name);
  if (!node) return undefined;
  const a = node.attrs;
  if (a.value?.type === 'tensor') return a.value.value;
  if (a.value_float?.type === 'float')
    return { dtype: 'float32', shape: [], data: Float32Array.of(a.value_float.value) };
  if (a.value_floats?.type === 'floats') {
    return {
      dtype: 'float32',
      shape: [a.value_floats.value.length],
      data: Float32Array.from(a.value_floats.value),
    };
  }
  if (a.value_int?.type === 'int')
    return { dtype: 'int64', shape: [], data: BigInt64Array.of(BigInt(a.value_int.value)) };
  if (a.value_ints?.type === 'ints') {
    const v = a.value_ints.value;
    return { dtype: 'int64', shape: [v.length], data: BigInt64Array.from(v, (x) => BigInt(x)) };
  }
  return undefined;
}

export function floatTensor(dtype: FloatDType, shape: readonly number[], values: readonly number[]): Tensor {
  if (dtype === 'float64') return { dtype, shape: [...shape], data: Float64Array.from(values) };
  if (dtype === 'float32') return { dtype, shape: [...shape], data: Float32Array.from(values) };
  throw new GraftError('UNSUPPORTED_OP', `gradients in ${dtype} are not supported yet`);
}

export class Emitter {
  private readonly consts = new Map<string, string>();
  private readonly shapeNodes = new Map<string, string>();

  constructor(
    readonly b: GraphBuilder,
    readonly opset: number,
    readonly dtype: FloatDType,
    readonly shapes: ShapeEnv,
  ) {}

  get graph(): Graph {
    return this.b.graph;
  }

  op(opType: string, inputs: readonly string[], attrs: Record<string, Attribute> = {}): string {
    return this.b.op(opType, inputs, attrs, { name: `grad_${opType}` });
  }

  /** A float constant of the training dtype (scalar unless a shape is given); cached. */
  scalar(value: number, dtype: FloatDType = this.dtype): string {
    return this.cached(`${dtype}:${value}`, () => this.b.constant('grad_c', floatTensor(dtype, [], [value])));
  }

  floats(values: readonly number[], shape: readonly number[] = [values.length]): string {
    return this.b.constant('grad_c', floatTensor(this.dtype, shape, values));
  }

  /** An int64 constant (1-D unless a shape is given); cached. */
  ints(values: readonly number[], shape: readonly number[] = [values.length]): string {
    return this.cached(`i64:${shape}:${values}`, () =>
      this.b.constant('grad_i', {
        dtype: 'int64',
        shape: [...shape],
        data: BigInt64Array.from(values, (v) => BigInt(v)),
      }),
    );
  }

  private cached(key: string, make: () => string): string {
    let name = this.consts.get(key);
    if (!name) this.consts.set(key, (name = make()));
    return name;
  }

  /** Shape(x), one node per value. */
  shapeOf(x: string): string {
    let s = this.shapeNodes.get(x);
    if (!s) this.shapeNodes.set(x, (s = this.op('Shape', [x])));
    return s;
  }

  cast(x: string, to: DType): string {
    return this.op('Cast', [x], { to: attr.int(codeFromDtype(to)) });
  }

  /** Size(x) as a scalar of the training dtype. */
  sizeOf(x: string): string {
    return this.cast(this.op('Size', [x]), this.dtype);
  }

  reshapeLike(g: string, x: string): string {
    return this.op('Reshape', [g, this.shapeOf(x)]);
  }

  /** ReduceSum/ReduceMean with axes given statically or as an int64 tensor name; undefined = all axes. */
  reduce(
    kind: 'ReduceSum' | 'ReduceMean',
    x: string,
    axes: readonly number[] | string | undefined,
    keepdims: boolean,
  ): string {
    const axesAsInput = kind === 'ReduceSum' ? this.opset >= 13 : this.opset >= 18;
    const keep = { keepdims: attr.int(keepdims ? 1 : 0) };
    if (axes === undefined) return this.op(kind, [x], keep);
    if (typeof axes === 'string') {
      if (!axesAsInput) throw new GraftError('UNSUPPORTED_OP', `${kind} with dynamic axes needs opset 13+`);
      return this.op(kind, [x, axes], keep);
    }
    if (axes.length === 0) return x;
    if (axesAsInput) return this.op(kind, [x, this.ints(axes)], keep);
    return this.op(kind, [x], { ...keep, axes: attr.ints(axes) });
  }

  reduceSum(x: string, axes: readonly number[] | string | undefined, keepdims: boolean): string {
    return this.reduce('ReduceSum', x, axes, keepdims);
  }

  unsqueeze(x: string, axes: readonly number[] | string): string {
    return this.axesOp('Unsqueeze', x, axes);
  }

  squeeze(x: string, axes: readonly number[] | string): string {
    return this.axesOp('Squeeze', x, axes);
  }

  private axesOp(op: 'Squeeze' | 'Unsqueeze', x: string, axes: readonly number[] | string): string {
    if (typeof axes !== 'string' && axes.length === 0) return x;
    if (this.opset >= 13) return this.op(op, [x, typeof axes === 'string' ? axes : this.ints(axes)]);
    if (typeof axes === 'string')
      throw new GraftError('UNSUPPORTED_OP', `${op} with dynamic axes needs opset 13+`);
    return this.op(op, [x], { axes: attr.ints(axes) });
  }

  /** Zeros shaped like x, in the training dtype. */
  zerosLike(x: string): string {
    const value = attr.tensor(floatTensor(this.dtype, [1], [0]));
    return this.op('ConstantOfShape', [this.shapeOf(x)], { value });
  }

  /**
   * Reduces a gradient `g` (shaped like the broadcast result) to the shape of operand `x` by summing over the
   * broadcast axes. Static axes when the shapes allow it, otherwise a Shape-driven dynamic reduction.
   */
  sumToShape(g: string, x: string, gShapeOf: string): string {
    const xs = this.shapes.shape(x);
    const ys = this.shapes.shape(gShapeOf);
    if (xs && ys) {
      if (sameShape(xs, ys)) return g;
      const lead = ys.length - xs.length;
      const ok = lead >= 0 && xs.every((d, i) => typeof d === 'number' || d === ys[i + lead]);
      if (ok) {
        const leading = Array.from({ length: lead }, (_, i) => i);
        const ones = xs.flatMap((d, i) => (d === 1 && ys[i + lead] !== 1 ? [i] : []));
        const r = this.reduceSum(g, leading, false);
        return this.reduceSum(r, ones, true);
      }
    }
    return this.dynamicSumToShape(g, x, gShapeOf);
  }

  private dynamicSumToShape(g: string, x: string, y: string): string {
    // Pad Shape(x) with leading ones to rank(y); reduce (keepdims) over the axes where it is 1; reshape.
    const sx = this.shapeOf(x);
    const sy = this.shapeOf(y);
    const diff = this.op('Sub', [this.op('Size', [sy]), this.op('Size', [sx])]);
    const one = attr.tensor({ dtype: 'int64', shape: [1], data: BigInt64Array.of(1n) });
    const pad = this.op('ConstantOfShape', [this.op('Reshape', [diff, this.ints([1])])], { value: one });
    const padded = this.op('Concat', [pad, sx], { axis: attr.int(0) });
    const isOne = this.op('Equal', [padded, this.ints([1], [])]);
    const axes = this.op('Reshape', [this.op('NonZero', [isOne]), this.ints([-1])]);
    const summed =
      this.opset >= 13
        ? this.op('ReduceSum', [g, axes], { keepdims: attr.int(1), noop_with_empty_axes: attr.int(1) })
        : undefined;
    if (!summed)
      throw new GraftError('UNSUPPORTED_OP', 'broadcast gradients with unknown shapes need opset 13+');
    return this.op('Reshape', [summed, sx]);
  }

  /** The rank of a value, or an error naming the value when it is not known statically. */
  requireRank(name: string, context: string): number {
    const r = this.shapes.rank(name);
    if (r === undefined) {
      throw new GraftError(
        'SHAPE_MISMATCH',
        `${context}: the rank of '${name}' is unknown; declare its shape (value_info) or run shape inference`,
        { tensor: name },
      );
    }
    return r;
  }
}

export function sameShape(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => d !== null && d === b[i]);
}
