/**
 * The knowledge-distillation objective of Hinton, Vinyals & Dean (2015), as ONNX nodes that graft's autodiff
 * differentiates with its generic rules:
 *
 *   loss = α · T² · KL(softmax(z_t / T) ‖ softmax(z_s / T))  +  (1 − α) · CE(y, z_s)
 *
 * The KL term is averaged over every example of the batch (PyTorch's KLDivLoss(reduction='batchmean')); the
 * cross-entropy is averaged over the labelled examples only: a label of -1 marks an unlabelled example, whose
 * one-hot row is all zeros, so it contributes the KL term alone (the per-example mask is the one-hot row). A
 * batch without a labelled example has a zero CE term (its denominator is max(count, 1)). The T² factor keeps
 * the soft targets' gradient magnitude independent of T (Hinton et al., section 2).
 */
import { GraftError } from '../errors.js';
import { attr, type GraphBuilder } from '../onnx/builder.js';
import { codeFromDtype } from '../onnx/tensor-proto.js';
import { floatTensor } from './emitter.js';
import { addDistillationLoss } from './losses.js';
import { ShapeEnv } from './shapes.js';

export interface DistillationObjectiveOptions {
  /** Softening temperature T > 0. */
  temperature: number;
  /** Weight α in [0, 1] of the soft-target (KL) term; 1 − α weighs the hard-label cross-entropy. */
  alpha: number;
  numClasses: number;
}

export interface DistillationObjective {
  /** The scalar loss. */
  loss: string;
  /** α · T² · batch-mean KL. */
  soft: string;
  /** Cross-entropy averaged over the labelled examples (0 when the batch has none). */
  hard: string;
}

/**
 * Appends the objective for student logits [N, C] (on the gradient path), teacher logits [N, C] (a constant
 * input) and int64 labels [N] (-1 = unlabelled).
 */
export function addDistillationObjective(
  b: GraphBuilder,
  studentLogits: string,
  teacherLogits: string,
  labels: string,
  o: DistillationObjectiveOptions,
): DistillationObjective {
  const { temperature: t, alpha, numClasses } = o;
  if (!(t > 0) || !Number.isFinite(t))
    throw new GraftError('BAD_OPTION', `temperature must be a finite number > 0, got ${t}`);
  if (!(alpha >= 0 && alpha <= 1))
    throw new GraftError('BAD_OPTION', `alpha must be in [0, 1], got ${alpha}`);
  const dtype = new ShapeEnv(b.graph).dtype(studentLogits) ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64')
    throw new GraftError('BAD_INPUT', `student logits must be float32 or float64, got ${dtype}`);
  const scalar = (v: number) => b.constant('kd_c', floatTensor(dtype, [], [v]));
  const keep0 = { keepdims: attr.int(0) };

  const teacherProbs = b.op('Softmax', [b.op('Div', [teacherLogits, scalar(t)])], { axis: attr.int(1) });
  const kl = addDistillationLoss(b, studentLogits, teacherProbs, t); // T² · batch-mean KL
  const soft = b.op('Mul', [kl, scalar(alpha)], {}, { name: 'kd_soft' });

  const classes = b.constant('kd_classes', {
    dtype: 'int64',
    shape: [numClasses],
    data: BigInt64Array.from({ length: numClasses }, (_, i) => BigInt(i)),
  });
  const column = b.constant('kd_col', { dtype: 'int64', shape: [2], data: BigInt64Array.of(-1n, 1n) });
  const onehot = b.op('Cast', [b.op('Equal', [b.op('Reshape', [labels, column]), classes])], {
    to: attr.int(codeFromDtype(dtype)),
  });
  const logProbs = b.op('LogSoftmax', [studentLogits], { axis: attr.int(1) });
  const ceSum = b.op('Neg', [b.op('ReduceSum', [b.op('Mul', [onehot, logProbs])], keep0)]);
  const labelled = b.op('Max', [b.op('ReduceSum', [onehot], keep0), scalar(1)]);
  const hard = b.op('Div', [ceSum, labelled], {}, { name: 'kd_hard' });
  const weightedHard = b.op('Mul', [hard, scalar(1 - alpha)]);
  const loss = b.op('Add', [soft, weightedHard], {}, { name: 'kd_loss_total' });
  return { loss, soft, hard };
}
