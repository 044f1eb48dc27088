/**
 * Ops that graft runs itself, outside ONNX Runtime, in domain `graft.native` of its training graphs: depthwise
 * 2-D convolution and its two gradients, in the convolution addon (native/conv, graft_conv.node). ONNX
 * Runtime's grouped-convolution kernels are several times slower when the weight is a graph input, as it is in
 * every training graph; SegmentedSession runs the ONNX parts of such a graph in ONNX Runtime and these nodes
 * here.
 *
 *   DepthwiseConv(x, w[, bias]) -> y                  attrs kernel_shape, strides, pads ([top, left, bottom, right])
 *   DepthwiseConvGradInput(dy, w, x) -> dx            (x supplies dx's shape only)
 *   DepthwiseConvGradWeight(x, dy) -> dw              w's shape [C, 1, kh, kw]
 */
import type { NativeDepthwise } from '../autodiff/types.js';
import { loadAddon } from './addons.js';
import { GraftError } from '../errors.js';
import { getAttr, type Node } from '../onnx/ir.js';
import type { Tensor } from '../tensor.js';

export { NATIVE_DOMAIN } from '../autodiff/rules/depthwise-native.js';

interface ConvAddon {
  depthwiseForward(
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    y: Float32Array,
    geometry: Int32Array,
    threads: number,
  ): void;
  depthwiseGradInput(
    dy: Float32Array,
    w: Float32Array,
    dx: Float32Array,
    geometry: Int32Array,
    threads: number,
  ): void;
  depthwiseGradWeight(
    x: Float32Array,
    dy: Float32Array,
    dw: Float32Array,
    geometry: Int32Array,
    threads: number,
  ): void;
  isa(): string;
}

/** The convolution addon, or undefined when it is not built or GRAFT_NATIVE=0 (depthwise convolutions then stay
 * in ONNX Runtime). */
export function convAddon(): ConvAddon | undefined {
  return loadAddon<ConvAddon>('graft_conv').addon;
}

/**
 * Which trained depthwise convolutions image fine-tuning runs natively (GRAFT_NATIVE_DEPTHWISE: 1 all, small those
 * with small planes, 0 none; unset 'auto', which depthwise-native.ts resolves per model: small planes when every
 * trained one has them). Always none without the addon. Every value that crosses between ONNX Runtime and a native
 * op is copied by onnxruntime-node into a JavaScript array (README, fine-tuning benchmarks).
 */
export function nativeDepthwiseMode(): NativeDepthwise | 'auto' {
  if (convAddon() === undefined) return false;
  const v = process.env['GRAFT_NATIVE_DEPTHWISE'];
  if (v === '1') return true;
  if (v === 'small') return 'small-planes';
  if (v === '0') return false;
  if (v !== undefined && v !== '')
    throw new GraftError(
      'BAD_OPTION',
      `GRAFT_NATIVE_DEPTHWISE=${v}: use 1 (all), small, 0 (none), or leave it unset (auto)`,
    );
  return 'auto';
}

/** The ops of NATIVE_DOMAIN. */
export const NATIVE_OPS: ReadonlySet<string> = new Set([
  'DepthwiseConv',
  'DepthwiseConvGradInput',
  'DepthwiseConvGradWeight',
]);

function float32(node: Node, t: Tensor | undefined, what: string): Float32Array {
  if (!t || !(t.data instanceof Float32Array)) {
    throw new GraftError('BAD_INPUT', `${node.opType} '${node.name}': ${what} must be a float32 tensor`);
  }
  return t.data;
}

/** [n, c, h, w, kh, kw, sh, sw, pt, pl, pb, pr] for input shape `x` and the node's attributes. */
function geometry(node: Node, x: readonly number[]): { g: Int32Array; ho: number; wo: number } {
  const k = getAttr(node, 'kernel_shape', 'ints');
  const s = getAttr(node, 'strides', 'ints') ?? [1, 1];
  const p = getAttr(node, 'pads', 'ints') ?? [0, 0, 0, 0];
  if (x.length !== 4 || k?.length !== 2 || s.length !== 2 || p.length !== 4) {
    throw new GraftError(
      'SHAPE_MISMATCH',
      `${node.opType} '${node.name}' needs a 4-D input and 2-D geometry`,
    );
  }
  const [n, c, h, w] = x as [number, number, number, number];
  const ho = Math.floor((h + p[0]! + p[2]! - k[0]!) / s[0]!) + 1;
  const wo = Math.floor((w + p[1]! + p[3]! - k[1]!) / s[1]!) + 1;
  if (ho < 1 || wo < 1) throw new GraftError('SHAPE_MISMATCH', `${node.opType} '${node.name}': empty output`);
  return { g: Int32Array.of(n, c, h, w, k[0]!, k[1]!, s[0]!, s[1]!, p[0]!, p[1]!, p[2]!, p[3]!), ho, wo };
}

/** Where a native node's output i goes: a fresh array, or one the caller reuses from run to run. */
export type Allocate = (output: number, length: number) => Float32Array;

const fresh: Allocate = (_, length) => new Float32Array(length);

/**
 * Runs one NATIVE_DOMAIN node on its input tensors ('' inputs are undefined); returns its outputs, written into
 * arrays from `allocate` (the kernels write every element).
 */
export function runNativeNode(
  node: Node,
  inputs: readonly (Tensor | undefined)[],
  threads: number,
  allocate: Allocate = fresh,
): Tensor[] {
  const a = convAddon();
  if (!a) {
    throw new GraftError(
      'UNSUPPORTED_OP',
      `${node.opType} '${node.name}' needs graft's convolution addon (build it with npm install; GRAFT_NATIVE=0 turns it off)`,
    );
  }
  switch (node.opType) {
    case 'DepthwiseConv': {
      const [x, w, b] = inputs;
      const { g, ho, wo } = geometry(node, x!.shape);
      const y = allocate(0, g[0]! * g[1]! * ho * wo);
      const bias = b ? float32(node, b, 'bias') : null;
      a.depthwiseForward(float32(node, x, 'x'), float32(node, w, 'w'), bias, y, g, threads);
      return [{ dtype: 'float32', shape: [g[0]!, g[1]!, ho, wo], data: y }];
    }
    case 'DepthwiseConvGradInput': {
      const [dy, w, x] = inputs;
      const { g } = geometry(node, x!.shape);
      const dx = allocate(0, float32(node, x, 'x').length);
      a.depthwiseGradInput(float32(node, dy, 'dy'), float32(node, w, 'w'), dx, g, threads);
      return [{ dtype: 'float32', shape: [...x!.shape], data: dx }];
    }
    case 'DepthwiseConvGradWeight': {
      const [x, dy] = inputs;
      const { g } = geometry(node, x!.shape);
      const dw = allocate(0, g[1]! * g[4]! * g[5]!);
      a.depthwiseGradWeight(float32(node, x, 'x'), float32(node, dy, 'dy'), dw, g, threads);
      return [{ dtype: 'float32', shape: [g[1]!, 1, g[4]!, g[5]!], data: dw }];
    }
    default:
      throw new GraftError('UNSUPPORTED_OP', `no native op ${node.opType} (node '${node.name}')`);
  }
}
