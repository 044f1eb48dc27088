/** Keras core layers: normalization, activations, merges, reshapes, dense. */
import { attr } from '../../onnx/builder.js';
import type { Dim } from '../../onnx/ir.js';
import { float32 } from '../../tensor.js';
import { activationName, applyActivation, reluLayer } from './activations.js';
import { storedAxis, unsupported, type KerasContext, type KTensor, type LayerCall } from './context.js';

function single(call: LayerCall): KTensor {
  const x = call.inputs[0];
  if (!x || call.inputs.length !== 1) throw unsupported(call, `${call.inputs.length} inputs`);
  return x;
}

const same = (x: KTensor, name: string): KTensor => ({ name, shape: x.shape, nchw: x.nchw });

const lastAxis = (x: KTensor): number => storedAxis(x, -1);

export function batchNorm(ctx: KerasContext, call: LayerCall): KTensor {
  const x = single(call);
  const rank = x.shape.length;
  const axisCfg = call.config['axis'];
  const axis = Array.isArray(axisCfg) && axisCfg.length === 1 ? axisCfg[0] : (axisCfg ?? -1);
  if (typeof axis !== 'number' || storedAxis(x, axis) !== 1 || rank < 2) {
    throw unsupported(call, `normalization over axis ${JSON.stringify(axisCfg)} of a rank-${rank} input`);
  }
  const mean = ctx.weight(call, 'moving_mean')!;
  const n = mean.data.length;
  const gamma = call.config['scale'] === false ? undefined : ctx.weight(call, 'gamma');
  const beta = call.config['center'] === false ? undefined : ctx.weight(call, 'beta');
  const inputs = [
    x.name,
    ctx.init(call, 'gamma', gamma ?? float32([n], new Float32Array(n).fill(1))),
    ctx.init(call, 'beta', beta ?? float32([n])),
    ctx.init(call, 'moving_mean', mean),
    ctx.init(call, 'moving_variance', ctx.weight(call, 'moving_variance')!),
  ];
  const eps = typeof call.config['epsilon'] === 'number' ? call.config['epsilon'] : 1e-3;
  return same(x, ctx.op(call, 'BatchNormalization', inputs, { epsilon: attr.float(eps) }, true));
}

export function relu(ctx: KerasContext, call: LayerCall): KTensor {
  const x = single(call);
  return same(x, reluLayer(ctx, call, x.name));
}

export function activation(ctx: KerasContext, call: LayerCall): KTensor {
  const x = single(call);
  return same(x, applyActivation(ctx, call, x.name, activationName(call.config), lastAxis(x), true));
}

export function softmax(ctx: KerasContext, call: LayerCall): KTensor {
  const x = single(call);
  const a = call.config['axis'] ?? -1;
  if (typeof a !== 'number') throw unsupported(call, `softmax over axes ${JSON.stringify(a)}`);
  return same(x, ctx.op(call, 'Softmax', [x.name], { axis: attr.int(storedAxis(x, a)) }, true));
}

export function identity(ctx: KerasContext, call: LayerCall): KTensor {
  const x = single(call);
  return same(x, ctx.op(call, 'Identity', [x.name], {}, true));
}

function broadcastShape(call: LayerCall): Dim[] {
  const rank = call.inputs[0]!.shape.length;
  if (call.inputs.some((t) => t.shape.length !== rank)) throw unsupported(call, 'inputs of different ranks');
  return call.inputs[0]!.shape.map((_, i) => {
    const dims = call.inputs.map((t) => t.shape[i]);
    return dims.find((d) => typeof d === 'number' && d !== 1) ?? dims.find((d) => d !== null) ?? null;
  });
}

export function merge(ctx: KerasContext, call: LayerCall, op: 'Add' | 'Mul'): KTensor {
  if (call.inputs.length < 2) throw unsupported(call, `${call.inputs.length} inputs`);
  const shape = broadcastShape(call);
  let acc = call.inputs[0]!.name;
  for (let i = 1; i < call.inputs.length; i++) {
    acc = ctx.op(call, op, [acc, call.inputs[i]!.name], {}, i === call.inputs.length - 1);
  }
  return { name: acc, shape, nchw: call.inputs[0]!.nchw };
}

export function concatenate(ctx: KerasContext, call: LayerCall): KTensor {
  const first = call.inputs[0]!;
  const rank = first.shape.length;
  if (call.inputs.some((t) => t.shape.length !== rank)) throw unsupported(call, 'inputs of different ranks');
  const a = typeof call.config['axis'] === 'number' ? call.config['axis'] : -1;
  const kAxis = a < 0 ? a + rank : a;
  const dims = call.inputs.map((t) => t.shape[kAxis]);
  const total = dims.every((d) => typeof d === 'number')
    ? (dims as number[]).reduce((x, y) => x + y, 0)
    : null;
  const shape = first.shape.map((d, i) => (i === kAxis ? total : d));
  const attrs = { axis: attr.int(storedAxis(first, a)) };
  const name = ctx.op(
    call,
    'Concat',
    call.inputs.map((t) => t.name),
    attrs,
    true,
  );
  return { name, shape, nchw: first.nchw };
}

const product = (dims: readonly Dim[]): Dim =>
  dims.every((d) => typeof d === 'number') ? (dims as number[]).reduce((a, b) => a * b, 1) : null;

export function flatten(ctx: KerasContext, call: LayerCall): KTensor {
  const x = single(call);
  const shape = [x.shape[0]!, product(x.shape.slice(1))];
  if (x.shape.length === 2) return { ...same(x, ctx.op(call, 'Identity', [x.name], {}, true)), shape };
  // Keras flattens in NHWC order; with 1x1 spatial dims NCHW has the same order and needs no transpose.
  const trivial = x.nchw && x.shape[1] === 1 && x.shape[2] === 1;
  const src = x.nchw && !trivial ? ctx.kerasOrder(call, x) : x.name;
  return { name: ctx.op(call, 'Flatten', [src], { axis: attr.int(1) }, true), shape, nchw: false };
}

export function reshape(ctx: KerasContext, call: LayerCall): KTensor {
  const x = single(call);
  const target = call.config['target_shape'];
  if (!Array.isArray(target) || !target.every((d) => typeof d === 'number')) {
    throw unsupported(call, `target_shape ${JSON.stringify(target)}`);
  }
  const dims = target as number[];
  const known = product(x.shape.slice(1));
  const fixed = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const shape: Dim[] = [
    x.shape[0]!,
    ...dims.map((d) => (d === -1 ? (typeof known === 'number' ? known / fixed : null) : d)),
  ];
  const src = ctx.kerasOrder(call, x);
  const shapeInit = ctx.ints(call, 'shape', [0, ...dims]);
  const rank4 = shape.length === 4;
  const y = ctx.op(call, 'Reshape', [src, shapeInit], {}, !rank4);
  return rank4 ? ctx.fromKerasOrder(call, y, shape) : { name: y, shape, nchw: false };
}

export function dense(ctx: KerasContext, call: LayerCall): KTensor {
  const x = single(call);
  const kernel = ctx.weight(call, 'kernel')!;
  const units = kernel.shape[1]!;
  const act = activationName(call.config);
  const useBias = call.config['use_bias'] !== false;
  const k = ctx.init(call, 'kernel', kernel);
  const bias = useBias ? [ctx.init(call, 'bias', ctx.weight(call, 'bias')!)] : [];
  const shape = [...x.shape.slice(0, -1), units];
  const linearLast = act === 'linear' && !x.nchw;
  let y: string;
  if (x.shape.length === 2) {
    y = ctx.op(call, 'Gemm', [x.name, k, ...bias], {}, linearLast);
  } else {
    const src = ctx.kerasOrder(call, x);
    y = ctx.op(call, 'MatMul', [src, k], {}, linearLast && !useBias);
    if (useBias) y = ctx.op(call, 'Add', [y, bias[0]!], {}, linearLast);
  }
  if (act !== 'linear') y = applyActivation(ctx, call, y, act, -1, !x.nchw);
  return x.nchw ? ctx.fromKerasOrder(call, y, shape) : { name: y, shape, nchw: false };
}
