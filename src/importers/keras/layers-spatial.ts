/** Keras spatial layers (NHWC in Keras, NCHW in the graph): convolutions, padding, pooling. */
import { GraftError } from '../../errors.js';
import { attr } from '../../onnx/builder.js';
import type { Attribute, Dim } from '../../onnx/ir.js';
import { depthwiseToOihw, hwioToOihw, tfWindowing } from '../kernels.js';
import { activationName, applyActivation } from './activations.js';
import { unsupported, type KerasContext, type KTensor, type LayerCall } from './context.js';

export function pair(v: unknown, fallback?: readonly [number, number]): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number'))
    return [...(v as [number, number])];
  if (fallback) return [...fallback];
  throw new GraftError('CORRUPT_MODEL', `expected an int or a pair of ints, got ${JSON.stringify(v)}`);
}

function spatialInput(call: LayerCall): KTensor {
  const x = call.inputs[0]!;
  if (x.shape.length !== 4 || !x.nchw) throw unsupported(call, `input of rank ${x.shape.length}`);
  const fmt = call.config['data_format'];
  if (fmt !== undefined && fmt !== null && fmt !== 'channels_last')
    throw unsupported(call, `data_format ${fmt}`);
  return x;
}

interface Window {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
}

/** Pads (explicit, TF rule) or an auto_pad fallback, and the Keras output shape. */
function windowing(
  call: LayerCall,
  x: KTensor,
  w: Window,
  channels: Dim,
): { attrs: Record<string, Attribute>; shape: Dim[] } {
  const padding = String(call.config['padding'] ?? 'valid');
  if (padding !== 'same' && padding !== 'valid') throw unsupported(call, `padding '${padding}'`);
  const win = tfWindowing([x.shape[1]!, x.shape[2]!], w.kernel, w.strides, w.dilations, padding);
  const attrs: Record<string, Attribute> = {
    kernel_shape: attr.ints(w.kernel),
    strides: attr.ints(w.strides),
  };
  if (win.pads) attrs['pads'] = attr.ints(win.pads);
  else attrs['auto_pad'] = attr.string('SAME_UPPER');
  return { attrs, shape: [x.shape[0]!, win.out[0], win.out[1], channels] };
}

function convWindow(call: LayerCall): Window {
  return {
    kernel: pair(call.config['kernel_size']),
    strides: pair(call.config['strides'], [1, 1]),
    dilations: pair(call.config['dilation_rate'], [1, 1]),
  };
}

function finishConv(
  ctx: KerasContext,
  call: LayerCall,
  inputs: string[],
  attrs: Record<string, Attribute>,
): string {
  const act = activationName(call.config);
  const y = ctx.op(call, 'Conv', inputs, attrs, act === 'linear');
  return act === 'linear' ? y : applyActivation(ctx, call, y, act, 1, true);
}

function biasInputs(ctx: KerasContext, call: LayerCall): string[] {
  if (call.config['use_bias'] === false) return [];
  return [ctx.init(call, 'bias', ctx.weight(call, 'bias')!)];
}

export function conv2d(ctx: KerasContext, call: LayerCall): KTensor {
  const x = spatialInput(call);
  const w = convWindow(call);
  const kernel = ctx.weight(call, 'kernel')!;
  const { attrs, shape } = windowing(call, x, w, kernel.shape[3]!);
  const groups = typeof call.config['groups'] === 'number' ? call.config['groups'] : 1;
  attrs['dilations'] = attr.ints(w.dilations);
  attrs['group'] = attr.int(groups);
  const k = ctx.init(call, 'kernel', hwioToOihw(kernel));
  return { name: finishConv(ctx, call, [x.name, k, ...biasInputs(ctx, call)], attrs), shape, nchw: true };
}

export function depthwiseConv2d(ctx: KerasContext, call: LayerCall): KTensor {
  const x = spatialInput(call);
  const w = convWindow(call);
  const kernel = ctx.weight(call, 'depthwise_kernel')!;
  const [, , c, m] = kernel.shape as [number, number, number, number];
  const { attrs, shape } = windowing(call, x, w, c * m);
  attrs['dilations'] = attr.ints(w.dilations);
  attrs['group'] = attr.int(c);
  const k = ctx.init(call, 'depthwise_kernel', depthwiseToOihw(kernel));
  return { name: finishConv(ctx, call, [x.name, k, ...biasInputs(ctx, call)], attrs), shape, nchw: true };
}

export function separableConv2d(ctx: KerasContext, call: LayerCall): KTensor {
  const x = spatialInput(call);
  const w = convWindow(call);
  const dk = ctx.weight(call, 'depthwise_kernel')!;
  const pk = ctx.weight(call, 'pointwise_kernel')!;
  const c = dk.shape[2]!;
  const { attrs, shape } = windowing(call, x, w, pk.shape[3]!);
  attrs['dilations'] = attr.ints(w.dilations);
  attrs['group'] = attr.int(c);
  const d = ctx.op(call, 'Conv', [x.name, ctx.init(call, 'depthwise_kernel', depthwiseToOihw(dk))], attrs);
  const p = ctx.init(call, 'pointwise_kernel', hwioToOihw(pk));
  const pointAttrs = { kernel_shape: attr.ints([1, 1]) };
  return { name: finishConv(ctx, call, [d, p, ...biasInputs(ctx, call)], pointAttrs), shape, nchw: true };
}

export function zeroPadding2d(ctx: KerasContext, call: LayerCall): KTensor {
  const x = spatialInput(call);
  const p = call.config['padding'];
  let t: number, b: number, l: number, r: number;
  if (Array.isArray(p) && Array.isArray(p[0])) {
    [t, b] = pair(p[0]);
    [l, r] = pair(p[1]);
  } else {
    const [ph, pw] = pair(p ?? 1);
    [t, b, l, r] = [ph, ph, pw, pw];
  }
  const pads = ctx.ints(call, 'pads', [0, 0, t, l, 0, 0, b, r]);
  const add = (d: Dim, n: number): Dim => (typeof d === 'number' ? d + n : null);
  const shape = [x.shape[0]!, add(x.shape[1]!, t + b), add(x.shape[2]!, l + r), x.shape[3]!];
  return {
    name: ctx.op(call, 'Pad', [x.name, pads], { mode: attr.string('constant') }, true),
    shape,
    nchw: true,
  };
}

export function pooling2d(ctx: KerasContext, call: LayerCall, op: 'MaxPool' | 'AveragePool'): KTensor {
  const x = spatialInput(call);
  const kernel = pair(call.config['pool_size'] ?? 2);
  const strides = pair(call.config['strides'] ?? kernel, kernel);
  const { attrs, shape } = windowing(call, x, { kernel, strides, dilations: [1, 1] }, x.shape[3]!);
  // Keras/TF average pooling excludes padded pixels from the mean: count_include_pad = 0 (the default).
  return { name: ctx.op(call, op, [x.name], attrs, true), shape, nchw: true };
}

export function globalPooling2d(ctx: KerasContext, call: LayerCall, op: 'ReduceMean' | 'ReduceMax'): KTensor {
  const x = spatialInput(call);
  const keep = call.config['keepdims'] === true;
  const attrs = { axes: attr.ints([2, 3]), keepdims: attr.int(keep ? 1 : 0) };
  const name = ctx.op(call, op, [x.name], attrs, true);
  const c = x.shape[3]!;
  return keep
    ? { name, shape: [x.shape[0]!, 1, 1, c], nchw: true }
    : { name, shape: [x.shape[0]!, c], nchw: false };
}
