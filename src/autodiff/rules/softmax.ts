/** Softmax and LogSoftmax (opset >= 13: one axis; older opsets: coerced to 2-D at `axis`). */
import { attr } from '../../onnx/builder.js';
import { getAttr } from '../../onnx/ir.js';
import type { Emitter } from '../emitter.js';
import type { GradientRule, RuleContext } from '../types.js';
import { grad0 } from '../types.js';

/** Runs `body(g, y, axis)` directly (opset 13+), or on 2-D views for the old coerced semantics. */
function withAxis(
  ctx: RuleContext,
  body: (e: Emitter, g: string, y: string, axis: number) => string,
): string {
  const e = ctx.e;
  const n = ctx.node;
  const g = grad0(ctx);
  const y = n.outputs[0]!;
  if (e.opset >= 13) return body(e, g, y, getAttr(n, 'axis', 'int') ?? -1);
  const axis = attr.int(getAttr(n, 'axis', 'int') ?? 1);
  const g2 = e.op('Flatten', [g], { axis });
  const y2 = e.op('Flatten', [y], { axis });
  return e.reshapeLike(body(e, g2, y2, 1), n.inputs[0]!);
}

/** dx = y * (g - sum(g * y, axis)). */
const softmax: GradientRule = (ctx) => [
  withAxis(ctx, (e, g, y, axis) => {
    const s = e.reduceSum(e.op('Mul', [g, y]), [axis], true);
    return e.op('Mul', [y, e.op('Sub', [g, s])]);
  }),
];

/** dx = g - exp(y) * sum(g, axis). */
const logSoftmax: GradientRule = (ctx) => [
  withAxis(ctx, (e, g, y, axis) => {
    const s = e.reduceSum(g, [axis], true);
    return e.op('Sub', [g, e.op('Mul', [e.op('Exp', [y]), s])]);
  }),
];

export const softmaxRules: Record<string, GradientRule> = { Softmax: softmax, LogSoftmax: logSoftmax };
