/**
 * BatchNormalization (inference mode with trainable scale/bias; training mode with batch statistics) and
 * LayerNormalization. Both work on rank-independent views: BN on [N, C, L] (Reshape [0, 0, -1]), LN on the
 * 2-D Flatten at its axis, and reshape the input gradient back to Shape(x).
 */
import { attr } from '../../onnx/builder.js';
import { getAttr } from '../../onnx/ir.js';
import type { Emitter } from '../emitter.js';
import type { GradientRule } from '../types.js';
import { grad0 } from '../types.js';

/** dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), means over `axes`. */
function normInputGrad(e: Emitter, dxhat: string, xhat: string, rstd: string, axes: number[]): string {
  const m1 = e.reduce('ReduceMean', dxhat, axes, true);
  const m2 = e.reduce('ReduceMean', e.op('Mul', [dxhat, xhat]), axes, true);
  const centered = e.op('Sub', [e.op('Sub', [dxhat, m1]), e.op('Mul', [xhat, m2])]);
  return e.op('Mul', [centered, rstd]);
}

/** Mean-centred x, 1/sqrt(var + eps) and xhat over `axes` (biased variance, keepdims). */
function standardize(e: Emitter, x: string, axes: number[], eps: number): { xhat: string; rstd: string } {
  const xc = e.op('Sub', [x, e.reduce('ReduceMean', x, axes, true)]);
  const v = e.reduce('ReduceMean', e.op('Mul', [xc, xc]), axes, true);
  const rstd = e.op('Reciprocal', [e.op('Sqrt', [e.op('Add', [v, e.scalar(eps)])])]);
  return { xhat: e.op('Mul', [xc, rstd]), rstd };
}

const batchNorm: GradientRule = (ctx) => {
  const e = ctx.e;
  const n = ctx.node;
  const [x, scale, , mean, variance] = n.inputs as [string, string, string, string, string];
  const eps = getAttr(n, 'epsilon', 'float') ?? 1e-5;
  const training =
    e.opset >= 14 ? getAttr(n, 'training_mode', 'int') === 1 : n.outputs.filter((o) => o).length > 1;
  const view = e.ints([0, 0, -1]);
  const column = e.ints([-1, 1]);
  const x3 = e.op('Reshape', [x, view]);
  const g3 = e.op('Reshape', [grad0(ctx), view]);
  const s2 = e.op('Reshape', [scale, column]);
  let xhat: string;
  let dx: string | undefined;
  let dmean: string | undefined;
  let dvar: string | undefined;
  if (training) {
    const st = standardize(e, x3, [0, 2], eps);
    xhat = st.xhat;
    if (ctx.needs(0)) dx = normInputGrad(e, e.op('Mul', [g3, s2]), xhat, st.rstd, [0, 2]);
  } else {
    const rstdFlat = e.op('Reciprocal', [e.op('Sqrt', [e.op('Add', [variance, e.scalar(eps)])])]);
    const rstd = e.op('Reshape', [rstdFlat, column]);
    xhat = e.op('Mul', [e.op('Sub', [x3, e.op('Reshape', [mean, column])]), rstd]);
    if (ctx.needs(0)) dx = e.op('Mul', [g3, e.op('Mul', [s2, rstd])]);
    // Gradients wrt the running statistics: rarely wanted, but cheap to state.
    const k = e.op('Mul', [scale, rstdFlat]);
    if (ctx.needs(3)) dmean = e.op('Neg', [e.op('Mul', [e.reduceSum(g3, [0, 2], false), k])]);
    if (ctx.needs(4)) {
      const sumGx = e.reduceSum(e.op('Mul', [g3, xhat]), [0, 2], false);
      dvar = e.op('Mul', [
        // dy/dvar = scale * (x - mean) * -1/2 (var + eps)^-3/2 = scale * xhat * -1/2 rstd^2
        e.op('Mul', [sumGx, scale]),
        e.op('Mul', [e.scalar(-0.5), e.op('Mul', [rstdFlat, rstdFlat])]),
      ]);
    }
  }
  return [
    dx && e.reshapeLike(dx, x),
    ctx.needs(1) ? e.reduceSum(e.op('Mul', [g3, xhat]), [0, 2], false) : undefined,
    ctx.needs(2) ? e.reduceSum(g3, [0, 2], false) : undefined,
    dmean,
    dvar,
  ];
};

const layerNorm: GradientRule = (ctx) => {
  const e = ctx.e;
  const n = ctx.node;
  const [x, scale, bias] = n.inputs as [string, string, string | undefined];
  const axis = attr.int(getAttr(n, 'axis', 'int') ?? -1);
  const eps = getAttr(n, 'epsilon', 'float') ?? 1e-5;
  const x2 = e.op('Flatten', [x], { axis });
  const g2 = e.op('Flatten', [grad0(ctx)], { axis });
  const { xhat, rstd } = standardize(e, x2, [1], eps);
  const dx = ctx.needs(0)
    ? e.reshapeLike(
        normInputGrad(e, e.op('Mul', [g2, e.op('Reshape', [scale, e.ints([1, -1])])]), xhat, rstd, [1]),
        x,
      )
    : undefined;
  const dscale = ctx.needs(1)
    ? e.reshapeLike(e.reduceSum(e.op('Mul', [g2, xhat]), [0], false), scale)
    : undefined;
  const dbias = bias && ctx.needs(2) ? e.reshapeLike(e.reduceSum(g2, [0], false), bias) : undefined;
  return [dx, dscale, dbias];
};

export const normRules: Record<string, GradientRule> = {
  BatchNormalization: batchNorm,
  LayerNormalization: layerNorm,
};
