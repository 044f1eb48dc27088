/**
 * Depthwise Conv (weight [C, 1, kh, kw], group C, 2-D, dilation 1, float32) lowered to graft's native ops
 * (src/runtime/native-ops.ts) when the training graph is built with `nativeDepthwise`: the forward node becomes
 * graft.native.DepthwiseConv, and dX and dW are DepthwiseConvGradInput / DepthwiseConvGradWeight instead of
 * the ConvTranspose and swapped-role Conv of conv.ts (which stay the pure-ONNX formulation for every other case).
 * Only convolutions whose weight is trained are lowered: a frozen weight stays an initializer, which ONNX
 * Runtime's own kernels handle well.
 */
import { attr } from '../../onnx/builder.js';
import { getAttr, opsetOf, type Dim, type Model } from '../../onnx/ir.js';
import { inferTypes } from '../../onnx/shape-inference.js';
import type { NativeDepthwise, RuleContext } from '../types.js';
import type { ConvGeometry } from './conv.js';

/** The domain of the ops graft runs outside ONNX Runtime. */
export const NATIVE_DOMAIN = 'graft.native';

/** Output rows narrower than this run natively under 'small-planes' (the native kernels' channels-last path). */
export const SMALL_PLANE_WIDTH = 16;

/** A 2-D depthwise Conv's weight shape: [C, 1, kh, kw] in C > 1 groups (one filter per channel). */
function depthwiseWeight(ws: readonly number[] | undefined, group: number): ws is readonly number[] {
  return ws?.length === 4 && ws[1] === 1 && ws[0] === group && group > 1;
}

function smallPlanes(ys: readonly Dim[], channels: number): boolean {
  const width = ys[3];
  return typeof width === 'number' && width < SMALL_PLANE_WIDTH && channels >= 16;
}

/**
 * What 'auto' means for a model and its trained parameters: 'small-planes' when it has trained depthwise Convs
 * and every one of them has small planes — the values crossing between native and ONNX Runtime stages are then
 * small (case (b): +16% at 7×7) — and none otherwise (a whole network's large early activations would cross as
 * JavaScript copies: +2 GB for case (c), no faster).
 */
export function resolveNativeDepthwise(
  mode: NativeDepthwise | 'auto',
  model: Model,
  params: readonly string[],
): NativeDepthwise {
  if (mode !== 'auto') return mode;
  const g = model.graph;
  const trained = new Set(params);
  const depthwise = g.nodes.filter(
    (n) =>
      n.opType === 'Conv' &&
      trained.has(n.inputs[1]!) &&
      depthwiseWeight(g.initializers.get(n.inputs[1]!)?.shape, getAttr(n, 'group', 'int') ?? 1),
  );
  if (depthwise.length === 0) return false;
  const types = inferTypes(g, { opset: opsetOf(model) });
  const small = depthwise.every((n) => {
    const ys = types.get(n.outputs[0]!)?.shape;
    return ys !== undefined && ys.length === 4 && smallPlanes(ys, getAttr(n, 'group', 'int')!);
  });
  return small ? 'small-planes' : false;
}

/** Gradients [dX, dW, dB] through native ops, or undefined when this Conv is not a depthwise one they take. */
export function nativeDepthwiseGrads(
  ctx: RuleContext,
  g: string,
  ws: readonly number[] | undefined,
  geo: ConvGeometry,
): (string | undefined)[] | undefined {
  const e = ctx.e;
  const node = ctx.node;
  const [x, w, bias] = node.inputs as [string, string, string | undefined];
  const xs = e.shapes.shape(x);
  const ys = e.shapes.shape(node.outputs[0]!);
  const depthwise = geo.s === 2 && depthwiseWeight(ws, geo.group) && xs?.[1] === geo.group;
  if (!ctx.nativeDepthwise || !ctx.needs(1) || !depthwise || e.dtype !== 'float32') return undefined;
  if (geo.dilations.some((d) => d !== 1) || !ys) return undefined;
  if (ctx.nativeDepthwise === 'small-planes' && !smallPlanes(ys, geo.group)) return undefined;
  const attrs = {
    kernel_shape: attr.ints(geo.kernel),
    strides: attr.ints(geo.strides),
    pads: attr.ints(geo.pads),
  };
  const declare = (name: string, shape: readonly Dim[]): void => {
    e.graph.valueInfo.set(name, { name, dtype: 'float32', shape: [...shape] });
  };
  node.domain = NATIVE_DOMAIN;
  node.opType = 'DepthwiseConv';
  node.attrs = attrs;
  declare(node.outputs[0]!, ys);
  const native = (opType: string, inputs: string[], shape: readonly Dim[]): string => {
    const out = e.b.op(opType, inputs, attrs, { domain: NATIVE_DOMAIN, name: `grad_${opType}` });
    declare(out, shape);
    return out;
  };
  return [
    ctx.needs(0) ? native('DepthwiseConvGradInput', [g, w, x], xs) : undefined,
    native('DepthwiseConvGradWeight', [x, g], ws),
    bias && ctx.needs(2) ? e.reduceSum(g, [0, 2, 3], false) : undefined,
  ];
}
