/**
 * A fixed channels-last depthwise case for native-depthwise.test.ts: run as a script, prints the forward pass, dX
 * and dW of graft's native kernels as JSON, for child processes with GRAFT_CONV_ISA set (the channels-last copies
 * transpose in AVX-512 registers by default where the CPU has it, and with plain loops under GRAFT_CONV_ISA=scalar).
 */
import { fileURLToPath } from 'node:url';
import { attr } from '../../src/onnx/builder.js';
import type { Node } from '../../src/onnx/ir.js';
import { NATIVE_DOMAIN, runNativeNode } from '../../src/runtime/native-ops.js';
import type { Tensor } from '../../src/tensor.js';
import { rng } from './fd.js';

/** 37 channels (two blocks of 16 and a tail of 5) of 9×7, stride 2 with Keras-style pads: 63 and 20 positions. */
export const CHANNELS_LAST_CASE = {
  x: [2, 37, 9, 7],
  k: [3, 3],
  strides: [2, 2],
  pads: [0, 0, 1, 1],
} as const;

function random(shape: readonly number[], seed: number): Tensor {
  const u = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'float32', shape: [...shape], data: Float32Array.from({ length: n }, () => 2 * u() - 1) };
}

/** The three kernels' outputs on the case, as plain arrays. */
export function channelsLastOutputs(): { y: number[]; dx: number[]; dw: number[] } {
  const { x: xs, k, strides, pads } = CHANNELS_LAST_CASE;
  const attrs = { kernel_shape: attr.ints(k), strides: attr.ints(strides), pads: attr.ints(pads) };
  const node = (opType: string, inputs: string[]): Node => ({
    name: opType,
    opType,
    domain: NATIVE_DOMAIN,
    inputs,
    outputs: ['out'],
    attrs,
  });
  const x = random(xs, 1);
  const w = random([xs[1], 1, ...k], 2);
  const [y] = runNativeNode(node('DepthwiseConv', ['x', 'w']), [x, w], 2);
  const dy = random(y!.shape, 3);
  const [dx] = runNativeNode(node('DepthwiseConvGradInput', ['dy', 'w', 'x']), [dy, w, x], 2);
  const [dw] = runNativeNode(node('DepthwiseConvGradWeight', ['x', 'dy']), [x, dy], 2);
  return {
    y: Array.from(y!.data as Float32Array),
    dx: Array.from(dx!.data as Float32Array),
    dw: Array.from(dw!.data as Float32Array),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(JSON.stringify(channelsLastOutputs()));
