/** TF convolutions (plain and fused with bias/activation/batch norm) and pooling, run NCHW in ONNX. */
import { GraftError } from '../../errors.js';
import { attr } from '../../onnx/builder.js';
import type { Attribute, Dim } from '../../onnx/ir.js';
import { float32 } from '../../tensor.js';
import { depthwiseToOihw, hwioToOihw, tfWindowing } from '../kernels.js';
import { attrFloat, attrInts, attrString, attrStrings } from './attrs.js';
import { unsupportedNode, type GraphContext, type GTensor } from './context.js';
import type { TfNode } from './types.js';

function nhwcPair(node: TfNode, key: string, fallback: number): [number, number] {
  const v = attrInts(node, key, [1, fallback, fallback, 1]);
  if (v.length === 2) return [v[0]!, v[1]!];
  if (v.length !== 4) throw unsupportedNode(node, `${key} ${JSON.stringify(v)}`);
  return [v[1]!, v[2]!];
}

function windowAttrs(
  node: TfNode,
  x: GTensor,
  kernel: [number, number],
  strides: [number, number],
  dilations: [number, number],
): { attrs: Record<string, Attribute>; out: [Dim, Dim] } {
  if (attrString(node, 'data_format', 'NHWC') !== 'NHWC') throw unsupportedNode(node, 'data_format NCHW');
  const mode = attrString(node, 'padding', 'VALID');
  let padding: Parameters<typeof tfWindowing>[4];
  if (mode === 'SAME') padding = 'same';
  else if (mode === 'VALID') padding = 'valid';
  else if (mode === 'EXPLICIT') {
    const p = attrInts(node, 'explicit_paddings');
    padding = { explicit: [p[2] ?? 0, p[3] ?? 0, p[4] ?? 0, p[5] ?? 0] };
  } else throw unsupportedNode(node, `padding ${mode}`);
  const shape = x.shape ?? [null, null, null, null];
  const win = tfWindowing([shape[1]!, shape[2]!], kernel, strides, dilations, padding);
  const attrs: Record<string, Attribute> = { kernel_shape: attr.ints(kernel), strides: attr.ints(strides) };
  if (win.pads) attrs['pads'] = attr.ints(win.pads);
  else attrs['auto_pad'] = attr.string('SAME_UPPER');
  return { attrs, out: win.out };
}

/** Fused epilogue (`fused_ops`) after the conv/matmul output `y`; `args` are the extra inputs. */
export function fusedEpilogue(
  ctx: GraphContext,
  node: TfNode,
  y: string,
  args: readonly GTensor[],
  channelShape: (t: GTensor, suffix: string) => string,
): string {
  const ops = attrStrings(node, 'fused_ops');
  let cur = y;
  let argIndex = 0;
  ops.forEach((op, i) => {
    const last = i === ops.length - 1;
    if (op === 'BiasAdd') {
      cur = ctx.op(node, 'Add', [cur, channelShape(args[argIndex++]!, '/bias')], {}, last);
    } else if (op === 'FusedBatchNorm') {
      const [scale, offset, mean, variance] = args.slice(argIndex, argIndex + 4);
      argIndex += 4;
      const p = [scale!, offset!, mean ?? zeroLike(scale!), variance ?? oneLike(scale!)].map((t, k) =>
        ctx.constInit(t, `/bn${k}`),
      );
      const eps = attrFloat(node, 'epsilon', 1e-3);
      cur = ctx.op(node, 'BatchNormalization', [cur, ...p], { epsilon: attr.float(eps) }, last);
    } else if (op === 'Relu') cur = ctx.op(node, 'Relu', [cur], {}, last);
    else if (op === 'Relu6') {
      const lo = ctx.b.constant('relu6_min', float32([], [0]));
      const hi = ctx.b.constant('relu6_max', float32([], [6]));
      cur = ctx.op(node, 'Clip', [cur, lo, hi], {}, last);
    } else if (op === 'Elu') cur = ctx.op(node, 'Elu', [cur], {}, last);
    else if (op === 'Sigmoid') cur = ctx.op(node, 'Sigmoid', [cur], {}, last);
    else if (op === 'LeakyRelu') {
      const alpha = attrFloat(node, 'leakyrelu_alpha', 0.2);
      cur = ctx.op(node, 'LeakyRelu', [cur], { alpha: attr.float(alpha) }, last);
    } else throw unsupportedNode(node, `fused op ${op}`);
  });
  return ops.length === 0 ? ctx.op(node, 'Identity', [cur], {}, true) : cur;
}

const zeroLike = (t: GTensor): GTensor => ({ ...t, value: float32([t.value!.data.length]) });
const oneLike = (t: GTensor): GTensor => ({
  ...t,
  value: float32([t.value!.data.length], new Float32Array(t.value!.data.length).fill(1)),
});

/** A rank-1 per-channel constant reshaped to [C, 1, 1] so it broadcasts over NCHW. */
export function channelConst(ctx: GraphContext, t: GTensor, suffix: string): string {
  if (!t.value)
    throw new GraftError('UNSUPPORTED_OP', `'${t.name}' must be a constant (a per-channel weight)`, {
      tensor: t.name,
    });
  return ctx.constInit(t, `${suffix}/c11`, (v) => ({ ...v, shape: [v.data.length, 1, 1] }));
}

export function conv(ctx: GraphContext, node: TfNode, depthwise: boolean, fused: boolean): GTensor {
  const [x, filter, ...args] = ctx.inputs(node);
  if (!x || !filter?.value) throw unsupportedNode(node, 'a filter that is not a constant');
  const [kh, kw, ci, co] = filter.value.shape as [number, number, number, number];
  const strides = nhwcPair(node, 'strides', 1);
  const dilations = nhwcPair(node, 'dilations', 1);
  const { attrs, out } = windowAttrs(node, x, [kh, kw], strides, dilations);
  attrs['dilations'] = attr.ints(dilations);
  attrs['group'] = attr.int(depthwise ? ci : 1);
  const w = ctx.constInit(filter, '/oihw', depthwise ? depthwiseToOihw : hwioToOihw);
  const channels = depthwise ? ci * co : co;
  const hasEpilogue = fused && attrStrings(node, 'fused_ops').length > 0;
  let y = ctx.op(node, 'Conv', [ctx.nchw(x), w], attrs, !hasEpilogue);
  if (hasEpilogue) y = fusedEpilogue(ctx, node, y, args, (t, s) => channelConst(ctx, t, s));
  const batch = x.shape?.[0] ?? null;
  return { name: y, shape: [batch, out[0], out[1], channels], nchw: true };
}

export function pool(ctx: GraphContext, node: TfNode, op: 'AveragePool' | 'MaxPool'): GTensor {
  const [x] = ctx.inputs(node);
  const kernel = nhwcPair(node, 'ksize', 1);
  const strides = nhwcPair(node, 'strides', 1);
  const { attrs, out } = windowAttrs(node, x!, kernel, strides, [1, 1]);
  const y = ctx.op(node, op, [ctx.nchw(x!)], attrs, true);
  const s = x!.shape;
  return { name: y, shape: [s?.[0] ?? null, out[0], out[1], s?.[3] ?? null], nchw: true };
}
