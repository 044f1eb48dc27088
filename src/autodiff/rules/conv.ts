/**
 * Conv (1-D/2-D/3-D, groups incl. depthwise, strides, pads, dilations, auto_pad):
 *   dX = ConvTranspose(g, W) with output_padding (static sizes) or a dynamic crop/pad to Shape(X); depthwise
 *        stride 1: the flipped-kernel depthwise Conv of g; 1×1 stride-1 unpadded ungrouped: the Conv of g with
 *        W's channel axes swapped (both faster in ONNX Runtime);
 *   dW = Conv with batch and channel roles swapped (stride and dilation exchange roles), per group; 1×1
 *        stride-1 unpadded ungrouped: Transpose + one Gemm (~2.8× faster than the swapped-role Conv), or a
 *        MatMul per image + ReduceSum where the images have many positions and few channels;
 *   dB = ReduceSum(g) over batch and spatial axes.
 * With TrainingGraphOptions.nativeDepthwise, trained depthwise 2-D Convs use graft's native ops instead
 * (depthwise-native.ts).
 */
import { GraftError } from '../../errors.js';
import { attr } from '../../onnx/builder.js';
import { getAttr, type Attribute, type Node } from '../../onnx/ir.js';
import type { Emitter } from '../emitter.js';
import { nativeDepthwiseGrads } from './depthwise-native.js';
import type { GradientRule } from '../types.js';
import { grad0 } from '../types.js';

export interface ConvGeometry {
  /** Spatial rank. */
  s: number;
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** [begin..., end...] */
  pads: number[];
  group: number;
}

const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => i + from);

/** Resolves kernel, strides, dilations and explicit pads (auto_pad needs static input sizes). */
export function convGeometry(e: Emitter, node: Node, x: string, kernel: number[] | undefined): ConvGeometry {
  const k = getAttr(node, 'kernel_shape', 'ints') ?? kernel;
  if (!k) throw new GraftError('SHAPE_MISMATCH', `${node.opType} '${node.name}': kernel shape unknown`);
  const s = k.length;
  const strides = getAttr(node, 'strides', 'ints') ?? range(s).map(() => 1);
  const dilations = getAttr(node, 'dilations', 'ints') ?? range(s).map(() => 1);
  const autoPad = getAttr(node, 'auto_pad', 'string') ?? 'NOTSET';
  let pads = getAttr(node, 'pads', 'ints') ?? range(2 * s).map(() => 0);
  if (autoPad === 'VALID') pads = range(2 * s).map(() => 0);
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const dims = e.shapes.shape(x)?.slice(2);
    if (!dims || dims.some((d) => typeof d !== 'number')) {
      throw new GraftError(
        'SHAPE_MISMATCH',
        `${node.opType} '${node.name}': auto_pad ${autoPad} needs static sizes`,
      );
    }
    const begin: number[] = [];
    const end: number[] = [];
    (dims as number[]).forEach((h, i) => {
      const dk = dilations[i]! * (k[i]! - 1) + 1;
      const total = Math.max(0, (Math.ceil(h / strides[i]!) - 1) * strides[i]! + dk - h);
      const small = Math.floor(total / 2);
      begin.push(autoPad === 'SAME_UPPER' ? small : total - small);
      end.push(autoPad === 'SAME_UPPER' ? total - small : small);
    });
    pads = [...begin, ...end];
  }
  return { s, kernel: k, strides, dilations, pads, group: getAttr(node, 'group', 'int') ?? 1 };
}

/**
 * The adjoint of a strided window op: ConvTranspose(g, w) sized back to x's spatial dims — exactly via
 * output_padding when they are static, otherwise by a dynamic pad-then-crop to Shape(x).
 */
export function transposedConv(
  e: Emitter,
  g: string,
  w: string,
  x: string,
  geo: ConvGeometry,
  dynamic = false,
): string {
  const attrs = {
    strides: attr.ints(geo.strides),
    dilations: attr.ints(geo.dilations),
    pads: attr.ints(geo.pads),
    group: attr.int(geo.group),
  };
  const dims = e.shapes.shape(x)?.slice(2);
  if (!dynamic && dims && dims.every((d) => typeof d === 'number')) {
    const outPad = (dims as number[]).map((h, i) => {
      const dk = geo.dilations[i]! * (geo.kernel[i]! - 1) + 1;
      return (h + geo.pads[i]! + geo.pads[i + geo.s]! - dk) % geo.strides[i]!;
    });
    const extra: Record<string, Attribute> = outPad.some((p) => p > 0)
      ? { output_padding: attr.ints(outPad) }
      : {};
    return e.op('ConvTranspose', [g, w], { ...attrs, ...extra });
  }
  // Keep the end padding region (pads end = 0): it is cropped below, after padding up any rows never reached.
  const beginOnly = attr.ints([...geo.pads.slice(0, geo.s), ...range(geo.s).map(() => 0)]);
  const full = e.op('ConvTranspose', [g, w], { ...attrs, pads: beginOnly });
  const axes = e.ints(range(geo.s, 2));
  const target = e.op('Slice', [e.shapeOf(x), e.ints([2]), e.ints([2 + geo.s])]);
  const current = e.op('Slice', [e.op('Shape', [full]), e.ints([2]), e.ints([2 + geo.s])]);
  const short = e.op('Max', [e.op('Sub', [target, current]), e.ints([0])]);
  const pads = e.op('Concat', [e.ints(range(4 + geo.s).map(() => 0)), short], { axis: attr.int(0) });
  const padded = e.op('Pad', [full, pads]);
  return e.op('Slice', [padded, e.ints(range(geo.s).map(() => 0)), target, axes]);
}

/** dW for Conv: batch and channels swap roles; stride and dilation swap roles; groups stay groups. */
function convWeightGrad(e: Emitter, x: string, g: string, w: string, geo: ConvGeometry): string {
  const r = geo.s + 2;
  const swap01 = attr.ints([1, 0, ...range(geo.s, 2)]);
  let xt: string;
  if (geo.group === 1) xt = e.op('Transpose', [x], { perm: swap01 });
  else {
    // [N, C, *S] -> [N, G, Cg, prod S] -> [Cg, G, N, prod S] -> [Cg, G*N, *S]
    const cg = e.shapes.shape(w)?.[1];
    if (typeof cg !== 'number')
      throw new GraftError('SHAPE_MISMATCH', `grouped Conv weight '${w}' needs a static shape`);
    const split = e.op('Reshape', [x, e.ints([0, geo.group, cg, -1])]);
    const moved = e.op('Transpose', [split], { perm: attr.ints([2, 1, 0, 3]) });
    const spatial = e.op('Slice', [e.shapeOf(x), e.ints([2]), e.ints([r])]);
    const shape = e.op('Concat', [e.ints([cg, -1]), spatial], { axis: attr.int(0) });
    xt = e.op('Reshape', [moved, shape]);
  }
  const gt = e.op('Transpose', [g], { perm: swap01 });
  const dwt = e.op('Conv', [xt, gt], {
    strides: attr.ints(geo.dilations),
    dilations: attr.ints(geo.strides),
    pads: attr.ints(geo.pads),
    group: attr.int(geo.group),
  });
  const cropped = e.op('Slice', [
    dwt,
    e.ints(range(geo.s).map(() => 0)),
    e.ints(geo.kernel),
    e.ints(range(geo.s, 2)),
  ]);
  return e.op('Transpose', [cropped], { perm: swap01 });
}

/** A 1×1, stride-1, unpadded, ungrouped Conv: dW is one Gemm over the batch and spatial positions. */
function isPointwise(geo: ConvGeometry): boolean {
  return (
    geo.group === 1 &&
    geo.kernel.every((k) => k === 1) &&
    geo.strides.every((v) => v === 1) &&
    geo.pads.every((p) => p === 0)
  );
}

/**
 * dW[o, i] = sum over n and positions p of g[n, o, p] x[n, i, p]. Two formulations, picked by which moves less:
 * with many positions per image and few channels (MobileNetV2's early 1×1 convs at 112×112 to 28×28), one
 * batched MatMul per image over its positions, then a sum over the batch (its [N, O, I] products are smaller than
 * transposed copies of g and x); otherwise both transposed to channel-major and one Gemm over all positions.
 */
function pointwiseWeightGrad(e: Emitter, x: string, g: string, ws: number[], s: number): string {
  const [o, i] = [ws[0]!, ws[1]!];
  const spatial = e.shapes.shape(x)?.slice(2);
  const positions = spatial?.every((d) => typeof d === 'number')
    ? (spatial as number[]).reduce((a, b) => a * b, 1)
    : undefined;
  if (positions !== undefined && o * i < (o + i) * positions) {
    const g3 = e.op('Reshape', [g, e.ints([0, o, -1])]);
    const x3 = e.op('Reshape', [x, e.ints([0, i, -1])]);
    const perImage = e.op('MatMul', [g3, e.op('Transpose', [x3], { perm: attr.ints([0, 2, 1]) })]);
    return e.op('Reshape', [e.reduceSum(perImage, [0], false), e.ints(ws)]);
  }
  const perm = attr.ints([1, 0, ...range(s, 2)]);
  const gt = e.op('Reshape', [e.op('Transpose', [g], { perm }), e.ints([o, -1])]);
  const xt = e.op('Reshape', [e.op('Transpose', [x], { perm }), e.ints([i, -1])]);
  return e.op('Reshape', [e.op('Gemm', [gt, xt], { transB: attr.int(1) }), e.ints(ws)]);
}

/**
 * A pointwise Conv's dX is the pointwise Conv of g with the weight's two channel axes swapped: ONNX Runtime runs
 * it 15–30% faster than the equivalent ConvTranspose (MobileNetV2's 1×1 shapes at 7×7 and 56×56, batch 32).
 */
function pointwiseInputGrad(e: Emitter, g: string, w: string, s: number): string {
  const wt = e.op('Transpose', [w], { perm: attr.ints([1, 0, ...range(s, 2)]) });
  return e.op('Conv', [g, wt]);
}

/**
 * Depthwise (weight [C, 1, *k], group C), stride 1: dX is the same depthwise Conv of g with the kernel flipped
 * and the complementary pads — ONNX Runtime's grouped Conv is ~1.7× faster than its grouped ConvTranspose here.
 */
function depthwiseStride1InputGrad(
  e: Emitter,
  g: string,
  w: string,
  ws: number[] | undefined,
  geo: ConvGeometry,
): string | undefined {
  if (!ws || ws[1] !== 1 || ws[0] !== geo.group || geo.strides.some((v) => v !== 1)) return undefined;
  const span = geo.kernel.map((k, i) => geo.dilations[i]! * (k - 1));
  const pads = [...span, ...span].map((d, i) => d - geo.pads[i]!);
  if (pads.some((p) => p < 0)) return undefined;
  const axes = range(geo.s, 2);
  const flipped = e.op('Slice', [
    w,
    e.ints(axes.map(() => -1)),
    e.ints(axes.map(() => -(2 ** 31))),
    e.ints(axes),
    e.ints(axes.map(() => -1)),
  ]);
  return e.op('Conv', [g, flipped], {
    dilations: attr.ints(geo.dilations),
    pads: attr.ints(pads),
    group: attr.int(geo.group),
  });
}

const conv: GradientRule = (ctx) => {
  const e = ctx.e;
  const n = ctx.node;
  const [x, w, bias] = n.inputs as [string, string, string | undefined];
  const g = grad0(ctx);
  const ws = e.shapes.staticShape(w);
  const geo = convGeometry(e, n, x, ws?.slice(2));
  const native = nativeDepthwiseGrads(ctx, g, ws, geo);
  if (native) return native;
  const dx = (): string =>
    isPointwise(geo)
      ? pointwiseInputGrad(e, g, w, geo.s)
      : (depthwiseStride1InputGrad(e, g, w, ws, geo) ?? transposedConv(e, g, w, x, geo));
  const dw = (): string =>
    ws && isPointwise(geo) ? pointwiseWeightGrad(e, x, g, ws, geo.s) : convWeightGrad(e, x, g, w, geo);
  return [
    ctx.needs(0) ? dx() : undefined,
    ctx.needs(1) ? dw() : undefined,
    bias && ctx.needs(2) ? e.reduceSum(g, [0, ...range(geo.s, 2)], false) : undefined,
  ];
};

export const convRules: Record<string, GradientRule> = { Conv: conv };
