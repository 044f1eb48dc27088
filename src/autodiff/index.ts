/**
 * graft's autodiff: reverse-mode differentiation over ONNX graphs, emitted as ONNX.
 *
 * 1. buildTrainingGraph clones the forward model and finds the gradient path: values that depend on a param
 *    (forward reachability through differentiable outputs) and that the loss depends on (backward).
 * 2. It seeds dLoss = 1 and walks the path's nodes in reverse topological order, calling one GradientRule per
 *    op type (rules/*.ts); each rule appends ordinary ONNX nodes (via an opset-aware Emitter) computing the
 *    gradients of the node's inputs. Several contributions to one value are summed with a Sum node.
 * 3. Anything off the path (Shape arithmetic, masks, indices, label subgraphs) is a constant. An op on the path
 *    without a rule is a GraftError('UNSUPPORTED_OP') naming the node.
 * 4. Params become graph inputs; outputs are [loss, gradients..., extras]; ONNX Runtime runs it as one session.
 * 5. Static shapes (ShapeEnv) only pick cheaper forms; unknown dims fall back to dynamic Shape-based subgraphs.
 * 6. graft's own losses (losses.ts) mark a fused gradient (softmax - target) used instead of the generic chain.
 */
export { buildTrainingGraph, type TrainingGraph, type TrainingGraphOptions } from './training-graph.js';
export {
  addDistillationLoss,
  addMeanSquaredError,
  addSoftmaxCrossEntropy,
  type CrossEntropyOptions,
} from './losses.js';
export {
  addDistillationObjective,
  type DistillationObjective,
  type DistillationObjectiveOptions,
} from './distill-loss.js';
export { gradientRules } from './rules/index.js';
export type { GradientRule, RuleContext } from './types.js';
export { isDifferentiableOutput } from './reachability.js';
