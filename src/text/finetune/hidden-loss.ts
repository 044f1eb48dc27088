/**
 * Hidden-state matching for text distillation (as in TinyBERT, Jiao et al. 2020, and the hidden-state term some
 * DistilBERT variants add): the mean squared error between the student's hidden states and the teacher's at
 * matched layers, over the real tokens only (the attention mask's ones), as ONNX nodes graft's autodiff
 * differentiates:
 *
 *   L_hidden = (1/K) Σ_k  Σ_{b,s,h} m_{b,s} (S_k − T_k)²_{b,s,h}  /  (H · Σ_{b,s} m_{b,s})
 *
 * for K pairs of [batch, seq, H] tensors (student S_k on the gradient path, teacher T_k a constant input) and an
 * integer mask [batch, seq]. Student and teacher must share the width H (a student made of the teacher's own
 * layers does).
 */
import { floatTensor } from '../../autodiff/emitter.js';
import { ShapeEnv } from '../../autodiff/shapes.js';
import { GraftError } from '../../errors.js';
import { attr, type GraphBuilder } from '../../onnx/builder.js';
import { codeFromDtype } from '../../onnx/tensor-proto.js';

export interface HiddenPair {
  /** A student tensor [batch, seq, H] on the gradient path. */
  student: string;
  /** The matching teacher tensor [batch, seq, H] (a graph input). */
  teacher: string;
}

/** Appends the masked mean squared error over `pairs`; returns the scalar's name. */
export function addHiddenStateLoss(
  b: GraphBuilder,
  pairs: readonly HiddenPair[],
  mask: string,
  hidden: number,
): string {
  if (pairs.length === 0)
    throw new GraftError('BAD_OPTION', 'hidden-state matching needs at least one layer pair');
  if (!(Number.isInteger(hidden) && hidden > 0))
    throw new GraftError('BAD_INPUT', `hidden-state matching needs the hidden width, got ${hidden}`);
  const dtype = new ShapeEnv(b.graph).dtype(pairs[0]!.student) ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64')
    throw new GraftError('BAD_INPUT', `hidden states must be float32 or float64, got ${dtype}`);
  const scalar = (v: number) => b.constant('hs_c', floatTensor(dtype, [], [v]));
  const keep0 = { keepdims: attr.int(0) };
  const maskF = b.op('Cast', [mask], { to: attr.int(codeFromDtype(dtype)) });
  // [batch, seq] → [batch, seq, 1], broadcast over the width.
  const shape = b.constant('hs_shape', { dtype: 'int64', shape: [3], data: BigInt64Array.of(0n, -1n, 1n) });
  const mask3 = b.op('Reshape', [maskF, shape]);
  // H · (number of real tokens), at least H: a batch of only padding adds nothing.
  const tokens = b.op('Max', [b.op('ReduceSum', [maskF], keep0), scalar(1)]);
  const denominator = b.op('Mul', [tokens, scalar(hidden * pairs.length)]);
  const sums = pairs.map((p) => {
    const d = b.op('Sub', [p.student, p.teacher]);
    return b.op('ReduceSum', [b.op('Mul', [b.op('Mul', [d, d]), mask3])], keep0);
  });
  const total = sums.length === 1 ? sums[0]! : b.op('Sum', sums);
  return b.op('Div', [total, denominator], {}, { name: 'hs_loss' });
}
