/** Data movement: Identity, Flatten, Reshape, Squeeze, Unsqueeze, Transpose, Concat, Split, Expand, Cast. */
import { GraftError } from '../../errors.js';
import { attr } from '../../onnx/builder.js';
import { getAttr } from '../../onnx/ir.js';
import { dtypeFromCode } from '../../onnx/tensor-proto.js';
import type { GradientRule } from '../types.js';
import { grad0 } from '../types.js';

const identity: GradientRule = (ctx) => [grad0(ctx)];

/** Any op that only rearranges x into another shape: reshape the gradient back to Shape(x). */
const reshapeBack: GradientRule = (ctx) => [ctx.e.reshapeLike(grad0(ctx), ctx.node.inputs[0]!)];

const transpose: GradientRule = (ctx) => {
  const perm = getAttr(ctx.node, 'perm', 'ints');
  if (!perm) return [ctx.e.op('Transpose', [grad0(ctx)])]; // reversal is its own inverse
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return [ctx.e.op('Transpose', [grad0(ctx)], { perm: attr.ints(inv) })];
};

/** Concat: split the gradient back into the pieces' extents along the axis. */
const concat: GradientRule = (ctx) => {
  const e = ctx.e;
  const n = ctx.node;
  const axis = getAttr(n, 'axis', 'int') ?? 0;
  const statics = n.inputs.map((x) => e.shapes.shape(x)?.at(axis));
  const known = statics.every((d) => typeof d === 'number');
  let sizes: string;
  if (known) sizes = e.ints(statics as number[]);
  else {
    const axisIdx = e.ints([axis]);
    const parts = n.inputs.map((x) => e.op('Gather', [e.shapeOf(x), axisIdx], { axis: attr.int(0) }));
    sizes = e.op('Concat', parts, { axis: attr.int(0) });
  }
  const k = n.inputs.length;
  const axisAttr = { axis: attr.int(axis) };
  let outs: string[];
  if (e.opset >= 13) outs = e.b.node('Split', [grad0(ctx), sizes], axisAttr, { outputs: k });
  else if (known)
    outs = e.b.node(
      'Split',
      [grad0(ctx)],
      { ...axisAttr, split: attr.ints(statics as number[]) },
      { outputs: k },
    );
  else throw new GraftError('UNSUPPORTED_OP', `Concat '${n.name}' with unknown extents needs opset 13+`);
  return outs.map((o, i) => (ctx.needs(i) ? o : undefined));
};

/** Split: concatenate the outputs' gradients (zeros where an output has none). */
const split: GradientRule = (ctx) => {
  const e = ctx.e;
  const n = ctx.node;
  const axis = getAttr(n, 'axis', 'int') ?? 0;
  const parts = n.outputs.map((_, i) => ctx.grads[i] ?? e.zerosLike(ctx.output(i)));
  return [e.op('Concat', parts, { axis: attr.int(axis) })];
};

/** Expand: sum the gradient over the broadcast axes. */
const expand: GradientRule = (ctx) => [
  ctx.e.sumToShape(grad0(ctx), ctx.node.inputs[0]!, ctx.node.outputs[0]!),
];

/** Cast between float types: cast the gradient back. */
const cast: GradientRule = (ctx) => {
  const n = ctx.node;
  const to = dtypeFromCode(getAttr(n, 'to', 'int') ?? 0);
  const from = ctx.e.shapes.dtype(n.inputs[0]!) ?? ctx.e.dtype;
  if (to === from) return [grad0(ctx)];
  return [ctx.e.cast(grad0(ctx), from)];
};

export const shapeRules: Record<string, GradientRule> = {
  Identity: identity,
  Flatten: reshapeBack,
  Reshape: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: transpose,
  Concat: concat,
  Split: split,
  Expand: expand,
  Cast: cast,
};
