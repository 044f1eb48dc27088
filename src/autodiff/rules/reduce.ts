/** Reductions: ReduceSum, ReduceMean, GlobalAveragePool. */
import { getAttr } from '../../onnx/ir.js';
import type { GradientRule, RuleContext } from '../types.js';
import { grad0 } from '../types.js';

/** Broadcasts the reduced gradient back over x: unsqueeze the reduced axes (keepdims=0) and Expand. */
function spread(ctx: RuleContext): string | undefined {
  const e = ctx.e;
  const n = ctx.node;
  const x = n.inputs[0]!;
  const g = grad0(ctx);
  const axesAsInput = n.opType === 'ReduceSum' ? e.opset >= 13 : e.opset >= 18;
  let axes: number[] | string | undefined;
  if (axesAsInput && n.inputs[1]) axes = ctx.constant(1) ?? n.inputs[1];
  else if (!axesAsInput) axes = getAttr(n, 'axes', 'ints');
  const keepdims = (getAttr(n, 'keepdims', 'int') ?? 1) === 1;
  const noop = getAttr(n, 'noop_with_empty_axes', 'int') === 1;
  if (Array.isArray(axes) && axes.length === 0) axes = undefined;
  if (axes === undefined && noop) return undefined; // identity
  const gk = keepdims || axes === undefined ? g : e.unsqueeze(g, axes);
  return e.op('Expand', [gk, e.shapeOf(x)]);
}

const reduceSum: GradientRule = (ctx) => [spread(ctx) ?? grad0(ctx)];

/** Mean: the spread gradient divided by the number of reduced elements, Size(x) / Size(y). */
const reduceMean: GradientRule = (ctx) => {
  const e = ctx.e;
  const spreadG = spread(ctx);
  if (!spreadG) return [grad0(ctx)];
  const ratio = e.op('Div', [e.sizeOf(ctx.node.outputs[0]!), e.sizeOf(ctx.node.inputs[0]!)]);
  return [e.op('Mul', [spreadG, ratio])];
};

const globalAveragePool: GradientRule = (ctx) => {
  const e = ctx.e;
  const [x, y] = [ctx.node.inputs[0]!, ctx.node.outputs[0]!];
  const ratio = e.op('Div', [e.sizeOf(y), e.sizeOf(x)]);
  return [e.op('Mul', [e.op('Expand', [grad0(ctx), e.shapeOf(x)]), ratio])];
};

export const reduceRules: Record<string, GradientRule> = {
  ReduceSum: reduceSum,
  ReduceMean: reduceMean,
  GlobalAveragePool: globalAveragePool,
};
