/** Dropout: in training mode the backward multiplies by the forward's mask and the 1/(1-ratio) scale. */
import type { GradientRule } from '../types.js';
import { grad0 } from '../types.js';

const dropout: GradientRule = (ctx) => {
  const e = ctx.e;
  const n = ctx.node;
  const g = grad0(ctx);
  // opset >= 12: ratio and training_mode are inputs; before, Dropout is identity at inference time.
  if (e.opset < 12) return [g];
  const training = n.inputs[2] ? ctx.constant(2) : [0];
  if (training && training[0] === 0) return [g];
  const ratioConst = n.inputs[1] ? ctx.constant(1) : [0.5];
  const mask = e.cast(ctx.output(1), e.dtype);
  let scale: string;
  if (ratioConst) {
    const r = ratioConst[0]!;
    scale = e.op('Mul', [mask, e.scalar(r === 1 ? 0 : 1 / (1 - r))]);
  } else {
    const r = e.cast(n.inputs[1]!, e.dtype);
    scale = e.op('Div', [mask, e.op('Sub', [e.scalar(1), r])]);
  }
  if (!training) {
    // training_mode is a runtime input: pass the gradient through unchanged when it is false.
    scale = e.op('Where', [n.inputs[2]!, scale, e.scalar(1)]);
  }
  return [e.op('Mul', [g, scale])];
};

export const dropoutRules: Record<string, GradientRule> = { Dropout: dropout };
