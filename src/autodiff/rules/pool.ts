/** AveragePool (adjoint via ConvTranspose with a ones kernel) and MaxPool (Indices + ScatterElements). */
import { GraftError } from '../../errors.js';
import { attr } from '../../onnx/builder.js';
import { getAttr } from '../../onnx/ir.js';
import { floatTensor } from '../emitter.js';
import type { GradientRule } from '../types.js';
import { grad0 } from '../types.js';
import { convGeometry, transposedConv } from './conv.js';

const averagePool: GradientRule = (ctx) => {
  const e = ctx.e;
  const n = ctx.node;
  const x = n.inputs[0]!;
  const y = n.outputs[0]!;
  const g = grad0(ctx);
  const geo = convGeometry(e, n, x, undefined);
  const k = geo.kernel.reduce((a, b) => a * b, 1);
  const ceil = getAttr(n, 'ceil_mode', 'int') === 1;
  // A window covering the whole (static) input, no pads: a global average — the adjoint is one Expand.
  const spatial = e.shapes.shape(x)?.slice(2);
  if (
    spatial?.every((d, i) => d === geo.kernel[i]) &&
    geo.pads.every((p) => p === 0) &&
    geo.dilations.every((d) => d === 1)
  ) {
    return [e.op('Expand', [e.op('Mul', [g, e.scalar(1 / k)]), e.shapeOf(x)])];
  }
  let scaled: string;
  if (getAttr(n, 'count_include_pad', 'int') === 1 || (geo.pads.every((p) => p === 0) && !ceil)) {
    scaled = e.op('Mul', [g, e.scalar(1 / k)]);
  } else {
    // Per-window divisor = number of non-pad elements: Conv of ones with a ones kernel over zero padding
    // (end pads grown by stride-1 to reproduce ceil_mode's overhanging last window).
    const spatial = e.op('Slice', [e.shapeOf(x), e.ints([2]), e.ints([2 + geo.s])]);
    const onesShape = e.op('Concat', [e.ints([1, 1]), spatial], { axis: attr.int(0) });
    const ones = e.op('ConstantOfShape', [onesShape], { value: attr.tensor(floatTensor(e.dtype, [1], [1])) });
    const pads = geo.pads.map((p, i) => (ceil && i >= geo.s ? p + geo.strides[i - geo.s]! - 1 : p));
    const kernelOnes = e.floats(new Array<number>(k).fill(1), [1, 1, ...geo.kernel]);
    const counts = e.op('Conv', [ones, kernelOnes], {
      strides: attr.ints(geo.strides),
      dilations: attr.ints(geo.dilations),
      pads: attr.ints(pads),
    });
    scaled = e.op('Div', [g, counts]);
  }
  // One channel at a time: [N, C, *S'] -> [N*C, 1, *S'], ConvTranspose with ones, back to Shape(x).
  const outSpatial = e.op('Slice', [e.shapeOf(y), e.ints([2]), e.ints([2 + geo.s])]);
  const perChannel = e.op('Reshape', [
    scaled,
    e.op('Concat', [e.ints([-1, 1]), outSpatial], { axis: attr.int(0) }),
  ]);
  const ones = e.floats(new Array<number>(k).fill(1), [1, 1, ...geo.kernel]);
  // Only x's spatial dims are used; ceil_mode windows can overhang, so size back dynamically then.
  const dx = transposedConv(e, perChannel, ones, x, { ...geo, group: 1 }, ceil);
  return [e.reshapeLike(dx, x)];
};

const maxPool: GradientRule = (ctx) => {
  const e = ctx.e;
  const n = ctx.node;
  const x = n.inputs[0]!;
  if (getAttr(n, 'storage_order', 'int') === 1) {
    throw new GraftError('UNSUPPORTED_OP', `MaxPool '${n.name}': storage_order=1 has no gradient rule`);
  }
  const indices = ctx.output(1);
  const kernel = getAttr(n, 'kernel_shape', 'ints') ?? [];
  const strides = getAttr(n, 'strides', 'ints') ?? kernel.map(() => 1);
  const overlapping = kernel.some((k, i) => k * (getAttr(n, 'dilations', 'ints')?.[i] ?? 1) > strides[i]!);
  const flat = e.ints([-1]);
  const zeros = e.op('ConstantOfShape', [e.op('Reshape', [e.op('Size', [x]), flat])], {
    value: attr.tensor(floatTensor(e.dtype, [1], [0])),
  });
  const inputs = [zeros, e.op('Reshape', [indices, flat]), e.op('Reshape', [grad0(ctx), flat])];
  let scattered: string;
  if (e.opset >= 16)
    scattered = e.op('ScatterElements', inputs, { axis: attr.int(0), reduction: attr.string('add') });
  else if (!overlapping) scattered = e.op('ScatterElements', inputs, { axis: attr.int(0) });
  else
    throw new GraftError(
      'UNSUPPORTED_OP',
      `MaxPool '${n.name}' with overlapping windows needs opset 16+ for its gradient`,
    );
  return [e.reshapeLike(scattered, x)];
};

export const poolRules: Record<string, GradientRule> = { AveragePool: averagePool, MaxPool: maxPool };
