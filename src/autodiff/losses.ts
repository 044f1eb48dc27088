/**
 * Loss subgraphs appended with a GraphBuilder. They use only opset-stable forms (reduce-all reductions,
 * Reshape instead of Unsqueeze, LogSoftmax on 2-D logits at axis 1), so they work for opsets 11-23.
 */
import { GraftError } from '../errors.js';
import { attr, type GraphBuilder } from '../onnx/builder.js';
import { codeFromDtype } from '../onnx/tensor-proto.js';
import { floatTensor, type FloatDType } from './emitter.js';
import { fusedDocString } from './fused.js';
import { ShapeEnv } from './shapes.js';

export interface CrossEntropyOptions {
  /** Mixes the one-hot target with the uniform distribution: (1 - e) * onehot + e / C. */
  labelSmoothing?: number;
  /** Per-class weights; 'mean' then divides by the summed weight of the targets (as PyTorch). */
  classWeights?: readonly number[];
  reduction?: 'mean' | 'sum';
}

function floatTypeOf(b: GraphBuilder, name: string): FloatDType {
  const dt = new ShapeEnv(b.graph).dtype(name) ?? 'float32';
  if (dt !== 'float32' && dt !== 'float64') {
    throw new GraftError('BAD_INPUT', `loss input '${name}' must be float32 or float64, got ${dt}`);
  }
  return dt;
}

function constant(
  b: GraphBuilder,
  dtype: FloatDType,
  values: readonly number[],
  shape: readonly number[],
): string {
  return b.constant('loss_c', floatTensor(dtype, shape, values));
}

/**
 * Mean (or summed) softmax cross-entropy of logits [N, C] against int64 labels [N]; returns the scalar loss.
 * With class weights w and smoothed targets t: loss = -sum_ic w_c t_ic log p_ic / sum_i w_{y_i}
 * (PyTorch's CrossEntropyLoss(weight=w, label_smoothing=e)).
 */
export function addSoftmaxCrossEntropy(
  b: GraphBuilder,
  logits: string,
  labels: string,
  numClasses: number,
  options: CrossEntropyOptions = {},
): string {
  const dtype = floatTypeOf(b, logits);
  const eps = options.labelSmoothing ?? 0;
  const weights = options.classWeights;
  if (!(eps >= 0 && eps <= 1))
    throw new GraftError('BAD_OPTION', `labelSmoothing must be in [0, 1], got ${eps}`);
  if (weights && weights.length !== numClasses) {
    throw new GraftError(
      'BAD_OPTION',
      `classWeights has ${weights.length} entries for ${numClasses} classes`,
    );
  }
  const classes = b.constant('ce_classes', {
    dtype: 'int64',
    shape: [numClasses],
    data: BigInt64Array.from({ length: numClasses }, (_, i) => BigInt(i)),
  });
  const column = b.constant('ce_shape', { dtype: 'int64', shape: [2], data: BigInt64Array.of(-1n, 1n) });
  const lab = b.op('Reshape', [labels, column]);
  const eq = b.op('Equal', [lab, classes]);
  const onehot = b.op('Cast', [eq], { to: attr.int(codeFromDtype(dtype)) }, { name: 'ce_onehot' });
  const target =
    eps > 0
      ? b.op('Add', [
          b.op('Mul', [onehot, constant(b, dtype, [1 - eps], [])]),
          constant(b, dtype, [eps / numClasses], []),
        ])
      : onehot;
  const w = weights ? constant(b, dtype, weights, [numClasses]) : undefined;
  const q = w ? b.op('Mul', [target, w], {}, { name: 'ce_weighted_target' }) : target;
  const logProbs = b.op('LogSoftmax', [logits], { axis: attr.int(1) }, { name: 'ce_log_softmax' });
  const keep0 = { keepdims: attr.int(0) };
  const num = b.op('ReduceSum', [b.op('Mul', [q, logProbs])], keep0);
  let denominator: string | undefined;
  let raw = b.op('Neg', [num]);
  if ((options.reduction ?? 'mean') === 'mean') {
    denominator = b.op('ReduceSum', [w ? b.op('Mul', [onehot, w]) : onehot], keep0, {
      name: 'ce_denominator',
    });
    raw = b.op('Div', [raw, denominator]);
  }
  const loss = b.op('Identity', [raw], {}, { name: 'ce_loss' });
  const node = b.graph.nodes[b.graph.nodes.length - 1]!;
  node.docString = fusedDocString('softmax_cross_entropy', {
    logits,
    logProbs,
    q,
    denominator,
    rowSumOne: w ? undefined : 'true',
  });
  return loss;
}

/** Mean (or summed) squared error between two tensors of the same shape; returns the scalar loss. */
export function addMeanSquaredError(
  b: GraphBuilder,
  predictions: string,
  targets: string,
  options: { reduction?: 'mean' | 'sum' } = {},
): string {
  const d = b.op('Sub', [predictions, targets]);
  const sq = b.op('Mul', [d, d]);
  const op = (options.reduction ?? 'mean') === 'mean' ? 'ReduceMean' : 'ReduceSum';
  return b.op(op, [sq], { keepdims: attr.int(0) }, { name: 'mse_loss' });
}

/**
 * Knowledge distillation (Hinton et al.): T^2 * KL(teacher || softmax(student / T)), averaged over the batch
 * (PyTorch's KLDivLoss(reduction='batchmean') * T^2). teacherProbs [N, C] are probabilities (constant).
 */
export function addDistillationLoss(
  b: GraphBuilder,
  studentLogits: string,
  teacherProbs: string,
  temperature: number,
): string {
  if (!(temperature > 0)) throw new GraftError('BAD_OPTION', `temperature must be > 0, got ${temperature}`);
  const dtype = floatTypeOf(b, studentLogits);
  const zero = constant(b, dtype, [0], []);
  const scaled = b.op('Div', [studentLogits, constant(b, dtype, [temperature], [])]);
  const logQ = b.op('LogSoftmax', [scaled], { axis: attr.int(1) });
  const p = teacherProbs;
  const pLogP = b.op('Where', [b.op('Greater', [p, zero]), b.op('Mul', [p, b.op('Log', [p])]), zero]);
  const keep0 = { keepdims: attr.int(0) };
  const kl = b.op('ReduceSum', [b.op('Sub', [pLogP, b.op('Mul', [p, logQ])])], keep0);
  const batchIndex = b.constant('kd_i', { dtype: 'int64', shape: [], data: BigInt64Array.of(0n) });
  const n = b.op('Gather', [b.op('Shape', [studentLogits]), batchIndex], { axis: attr.int(0) });
  const nf = b.op('Cast', [n], { to: attr.int(codeFromDtype(dtype)) });
  const scale = constant(b, dtype, [temperature * temperature], []);
  return b.op('Mul', [b.op('Div', [kl, nf]), scale], {}, { name: 'kd_loss' });
}
