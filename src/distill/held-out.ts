/** Teacher and student on the same held-out examples: each one's evaluation, and how often they agree. */
import type { Example, ImageSource } from '../data/types.js';
import { GraftError } from '../errors.js';
import { evaluateHeldOut, type EvaluationReport } from '../eval/report.js';
import type { ActivationCache } from '../strategies/finetune/activations.js';
import type { BackboneTrainable } from '../strategies/finetune/backbone-trainable.js';
import { activationsFor } from '../strategies/finetune/run-phases.js';
import { arrayDataSource } from '../train/data-source.js';
import { predictAll } from '../train/validation.js';
import { agreementOf, softmaxRows } from './compare.js';
import type { DistillOptions } from './options.js';
import { teacherLogits } from './source.js';
import type { Student } from './student.js';
import type { Teacher } from './teacher.js';

/** Held-out figures of both networks (same examples, the data's label order). */
export interface HeldOutPair {
  teacher: EvaluationReport;
  student: EvaluationReport;
  /** Fraction of held-out examples where the student predicts the teacher's class. */
  agreement: number;
}

/** Teacher and student on the held-out examples. */
export async function heldOutPair(
  teacher: Teacher,
  columns: Int32Array,
  model: BackboneTrainable,
  cache: ActivationCache,
  held: readonly Example<ImageSource>[],
  o: DistillOptions,
  student: Student,
): Promise<HeldOutPair> {
  const session = o.threads ? { threads: o.threads } : undefined;
  const labels = Int32Array.from(held, (e) => e.label);
  const pre = student.backbone.spec.preprocess;
  if (pre.kind !== 'image') throw new GraftError('BAD_OPTION', 'the student is not an image model');
  const acts = await activationsFor(model, cache, held, pre, session);
  const { probs } = await predictAll(model, arrayDataSource({ [model.inputName]: acts }, labels), 64);
  const t = await teacherLogits(teacher, held, columns, { cacheDir: o.cacheDir, session });
  const teacherProbs = softmaxRows(t.data as Float32Array, held.length);
  return {
    teacher: evaluateHeldOut(teacherProbs, labels),
    student: evaluateHeldOut(probs, labels),
    agreement: agreementOf(probs, teacherProbs, held.length),
  };
}
