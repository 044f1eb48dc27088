/** The contract between the training-graph builder and the per-op gradient rules. */
import type { Node } from '../onnx/ir.js';
import type { Emitter } from './emitter.js';

export interface RuleContext {
  /** The forward node (in the training graph; a rule may add optional outputs it needs, e.g. a mask). */
  readonly node: Node;
  /** Gradient of the loss wrt each output of the node; undefined where no gradient flows (zero). */
  readonly grads: readonly (string | undefined)[];
  /** Emits gradient nodes into the training graph. */
  readonly e: Emitter;
  /** Whether input i needs a gradient (depends on a param and the loss depends on it through this node). */
  needs(i: number): boolean;
  /** Name of output i, adding it to the node when the forward graph left it out. */
  output(i: number): string;
  /** Constant numeric value of input i (initializer or Constant node), if it is constant. */
  constant(i: number): number[] | undefined;
  /** TrainingGraphOptions.nativeDepthwise: lower trained depthwise Convs to graft's native ops. */
  readonly nativeDepthwise: NativeDepthwise;
}

/**
 * Which trained depthwise Convs become graft's native ops: none, all, or only those with small planes (output
 * rows narrower than SMALL_PLANE_WIDTH and at least 16 channels), where ONNX Runtime's grouped kernels are
 * slowest and the values crossing between native and ONNX Runtime stages are small.
 */
export type NativeDepthwise = boolean | 'small-planes';

/**
 * Returns, per input of the node, the name of the gradient of the loss wrt that input (undefined where
 * no gradient is produced). Rules only need to produce gradients for inputs where `ctx.needs(i)`.
 */
export type GradientRule = (ctx: RuleContext) => (string | undefined)[];

/** The gradient of output 0, which every single-output rule needs. */
export function grad0(ctx: RuleContext): string {
  const g = ctx.grads[0];
  if (!g) throw new Error(`internal: no gradient for output 0 of ${ctx.node.name}`);
  return g;
}
