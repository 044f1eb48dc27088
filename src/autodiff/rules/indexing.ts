/**
 * Selection ops: Where, Pad (constant mode), Slice, Gather. Slice and Gather scatter the gradient back;
 * the general forms use an "index grid" (Range over x's elements, reshaped to x, passed through the same op)
 * so that any axes/steps/negative indices are handled by ONNX Runtime's own forward semantics.
 */
import { GraftError } from '../../errors.js';
import { attr } from '../../onnx/builder.js';
import { getAttr, type Attribute } from '../../onnx/ir.js';
import { floatTensor, type Emitter } from '../emitter.js';
import type { GradientRule, RuleContext } from '../types.js';
import { grad0 } from '../types.js';

const INT64_MAX_ISH = 2 ** 62;

const where: GradientRule = (ctx) => {
  const e = ctx.e;
  const [cond, a, b] = ctx.node.inputs as [string, string, string];
  const y = ctx.node.outputs[0]!;
  const g = grad0(ctx);
  const zero = e.scalar(0);
  return [
    undefined,
    ctx.needs(1) ? e.sumToShape(e.op('Where', [cond, g, zero]), a, y) : undefined,
    ctx.needs(2) ? e.sumToShape(e.op('Where', [cond, zero, g]), b, y) : undefined,
  ];
};

/** dx[p] = sum of g over the positions of y that read x[p]; positions come from the op run on an index grid. */
function scatterThroughIndexGrid(
  ctx: RuleContext,
  select: (grid: string) => string,
  accumulate: boolean,
): string {
  const e = ctx.e;
  const x = ctx.node.inputs[0]!;
  const flat = e.ints([-1]);
  const size = e.op('Size', [x]);
  const grid = e.op('Reshape', [e.op('Range', [e.ints([0], []), size, e.ints([1], [])]), e.shapeOf(x)]);
  const positions = e.op('Reshape', [select(grid), flat]);
  const zeros = e.op('ConstantOfShape', [e.op('Reshape', [size, flat])], {
    value: attr.tensor(floatTensor(e.dtype, [1], [0])),
  });
  const inputs = [zeros, positions, e.op('Reshape', [grad0(ctx), flat])];
  if (accumulate && e.opset < 16) {
    throw new GraftError(
      'UNSUPPORTED_OP',
      `${ctx.node.opType} '${ctx.node.name}' gradient needs opset 16+ (scatter-add)`,
    );
  }
  const reduction: Record<string, Attribute> = accumulate ? { reduction: attr.string('add') } : {};
  return e.reshapeLike(e.op('ScatterElements', inputs, { axis: attr.int(0), ...reduction }), x);
}

/** Slice: Pad the gradient back when the bounds are static, otherwise scatter through the index grid. */
const slice: GradientRule = (ctx) => {
  const e = ctx.e;
  const n = ctx.node;
  const x = n.inputs[0]!;
  const g = grad0(ctx);
  const old = e.opset < 10;
  const starts = old ? getAttr(n, 'starts', 'ints') : ctx.constant(1);
  const ends = old ? getAttr(n, 'ends', 'ints') : ctx.constant(2);
  const axesIn = old ? getAttr(n, 'axes', 'ints') : n.inputs[3] ? ctx.constant(3) : undefined;
  const steps = !old && n.inputs[4] ? ctx.constant(4) : undefined;
  const dims = e.shapes.shape(x);
  const dynamicInputs = !old && n.inputs.slice(1).some((v, i) => v && !ctx.constant(i + 1));
  if (!dynamicInputs && starts && ends && dims && (!steps || steps.every((s) => s === 1))) {
    const rank = dims.length;
    const axes = (axesIn ?? starts.map((_, i) => i)).map((a) => (a < 0 ? a + rank : a));
    const pads = new Array<number>(2 * rank).fill(0);
    let ok = true;
    axes.forEach((a, i) => {
      const d = dims[a];
      let s = starts[i]!;
      let en = ends[i]!;
      if (typeof d === 'number') {
        s = Math.min(Math.max(s < 0 ? s + d : s, 0), d);
        en = Math.min(Math.max(en < 0 ? en + d : en, 0), d);
        pads[a] = s;
        pads[a + rank] = d - Math.max(en, s);
      } else if (s >= 0 && en >= INT64_MAX_ISH) pads[a] = s;
      else ok = false;
    });
    if (ok) return [e.op('Pad', [g, e.ints(pads)])];
  }
  return [
    scatterThroughIndexGrid(ctx, (grid) => e.op('Slice', [grid, ...n.inputs.slice(1)], n.attrs), false),
  ];
};

/** Pad (constant mode, non-negative pads): slice the padding off the gradient. */
const pad: GradientRule = (ctx) => {
  const e = ctx.e;
  const n = ctx.node;
  const mode = getAttr(n, 'mode', 'string') ?? 'constant';
  if (mode !== 'constant')
    throw new GraftError('UNSUPPORTED_OP', `Pad '${n.name}': no gradient rule for mode '${mode}'`);
  const pads = e.opset < 11 ? getAttr(n, 'pads', 'ints') : ctx.constant(1);
  if (!pads || pads.some((p) => p < 0)) {
    throw new GraftError('UNSUPPORTED_OP', `Pad '${n.name}': gradient needs constant, non-negative pads`);
  }
  const half = pads.length / 2;
  const axes = n.inputs[3] ? ctx.constant(3) : Array.from({ length: half }, (_, i) => i);
  if (!axes) throw new GraftError('UNSUPPORTED_OP', `Pad '${n.name}': gradient needs constant axes`);
  const starts = pads.slice(0, half);
  const ends = pads.slice(half).map((p) => (p === 0 ? INT64_MAX_ISH : -p));
  return [
    e.op('Slice', [grad0(ctx), e.ints(starts), e.ints(ends), e.ints(axes)]),
    undefined,
    undefined,
    undefined,
  ];
};

/** Gather: embeddings (axis 0) accumulate with ScatterND; other axes scatter through the index grid. */
const gather: GradientRule = (ctx) => {
  const e = ctx.e;
  const n = ctx.node;
  const [data, indices] = n.inputs as [string, string];
  const axis = getAttr(n, 'axis', 'int') ?? 0;
  if (axis !== 0 || e.opset < 16) {
    return [
      scatterThroughIndexGrid(ctx, (grid) => e.op('Gather', [grid, indices], n.attrs), true),
      undefined,
    ];
  }
  const idx = normalizedIndices(e, data, indices);
  const zeros = e.zerosLike(data);
  return [
    e.op('ScatterND', [zeros, e.unsqueeze(idx, [-1]), grad0(ctx)], { reduction: attr.string('add') }),
    undefined,
  ];
};

/** int64 indices with negatives wrapped by the axis-0 extent. */
function normalizedIndices(e: Emitter, data: string, indices: string): string {
  const idx = e.shapes.dtype(indices) === 'int64' ? indices : e.cast(indices, 'int64');
  const dim = e.op('Gather', [e.shapeOf(data), e.ints([0], [])], { axis: attr.int(0) });
  const negative = e.op('Less', [idx, e.ints([0], [])]);
  return e.op('Where', [negative, e.op('Add', [idx, dim]), idx]);
}

export const indexingRules: Record<string, GradientRule> = {
  Where: where,
  Slice: slice,
  Pad: pad,
  Gather: gather,
};
