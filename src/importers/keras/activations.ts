/** Keras activation functions (by name) as ONNX nodes. */
import { attr } from '../../onnx/builder.js';
import { unsupported, type KerasContext, type LayerCall } from './context.js';

/** The activation name of a layer config ('linear' when absent). */
export function activationName(config: Readonly<Record<string, unknown>>): string {
  const a = config['activation'];
  if (a === undefined || a === null) return 'linear';
  if (typeof a === 'string') return a;
  if (typeof a === 'object' && a !== null && 'class_name' in a) {
    const cls = (a as { class_name: unknown; config?: { name?: unknown } }).class_name;
    if (typeof cls === 'string') return cls.toLowerCase();
  }
  return String(a);
}

/**
 * Applies `activation` to tensor `x`. `channelAxis` is the stored axis of Keras's last axis (for softmax).
 * With `last`, the result gets the layer's output name (an Identity for 'linear').
 */
export function applyActivation(
  ctx: KerasContext,
  call: LayerCall,
  x: string,
  activation: string,
  channelAxis: number,
  last: boolean,
): string {
  switch (activation) {
    case 'linear':
      return last ? ctx.op(call, 'Identity', [x], {}, true) : x;
    case 'relu':
      return ctx.op(call, 'Relu', [x], {}, last);
    case 'relu6':
      return ctx.op(call, 'Clip', [x, ctx.scalar(call, 'min', 0), ctx.scalar(call, 'max', 6)], {}, last);
    case 'sigmoid':
      return ctx.op(call, 'Sigmoid', [x], {}, last);
    case 'tanh':
      return ctx.op(call, 'Tanh', [x], {}, last);
    case 'softmax':
      return ctx.op(call, 'Softmax', [x], { axis: attr.int(channelAxis) }, last);
    case 'swish':
    case 'silu': {
      const s = ctx.op(call, 'Sigmoid', [x]);
      return ctx.op(call, 'Mul', [x, s], {}, last);
    }
    case 'elu':
      return ctx.op(call, 'Elu', [x], { alpha: attr.float(1) }, last);
    case 'selu':
      return ctx.op(call, 'Selu', [x], {}, last);
    case 'softplus':
      return ctx.op(call, 'Softplus', [x], {}, last);
    case 'softsign':
      return ctx.op(call, 'Softsign', [x], {}, last);
    case 'hard_sigmoid':
      return ctx.op(call, 'HardSigmoid', [x], { alpha: attr.float(0.2), beta: attr.float(0.5) }, last);
    default:
      throw unsupported(call, `activation '${activation}'`);
  }
}

/** Keras's ReLU layer: max_value, negative_slope and threshold. */
export function reluLayer(ctx: KerasContext, call: LayerCall, x: string): string {
  const c = call.config;
  const maxValue = typeof c['max_value'] === 'number' ? c['max_value'] : null;
  const slope = typeof c['negative_slope'] === 'number' ? c['negative_slope'] : 0;
  const threshold = typeof c['threshold'] === 'number' ? c['threshold'] : 0;
  let y: string;
  const hasMax = maxValue !== null;
  if (threshold === 0 && slope === 0) {
    if (hasMax) {
      const lo = ctx.scalar(call, 'min', 0);
      return ctx.op(call, 'Clip', [x, lo, ctx.scalar(call, 'max', maxValue)], {}, true);
    }
    return ctx.op(call, 'Relu', [x], {}, true);
  }
  if (threshold === 0) {
    y = ctx.op(call, 'LeakyRelu', [x], { alpha: attr.float(slope) }, !hasMax);
  } else {
    // x >= threshold ? x : slope * (x - threshold)
    const t = ctx.scalar(call, 'threshold', threshold);
    const keep = ctx.op(call, 'GreaterOrEqual', [x, t]);
    const below = ctx.op(call, 'Mul', [ctx.op(call, 'Sub', [x, t]), ctx.scalar(call, 'slope', slope)]);
    y = ctx.op(call, 'Where', [keep, x, below], {}, !hasMax);
  }
  if (!hasMax) return y;
  return ctx.op(call, 'Min', [y, ctx.scalar(call, 'max', maxValue)], {}, true);
}
