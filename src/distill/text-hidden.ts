/**
 * Hidden-state matching for text students (`hiddenLoss`, off by default): student layer j is the teacher's layer
 * keep[j] with its weights (text-student.ts), so each student layer's output is matched to that teacher layer's
 * output (same width: the student is made of the teacher's own layers), by the masked MSE of
 * text/finetune/hidden-loss.ts. The teacher's hidden states are [batch, seq, H] per layer, too large to keep for
 * a whole transfer set, so the teacher runs on every training batch (the very batch, padded as the student
 * sees it) and its states ride along under `teacherHiddenInput(k)`.
 */
import { GraftError } from '../errors.js';
import type { Model } from '../onnx/ir.js';
import { Session, type SessionOptions } from '../runtime/session.js';
import { teacherHiddenInput } from '../text/finetune/model.js';
import type { Tensor } from '../tensor.js';
import type { DataSource } from '../train/types.js';
import { encoderLayers } from './drop-layers.js';
import type { TextStudent } from './text-student.js';
import type { TextTeacher } from './text-teacher.js';

export interface HiddenMatching {
  /** The student's layer outputs, in layer order. */
  student: string[];
  /** The teacher's outputs of the layers each student layer came from. */
  teacher: string[];
}

export function matchedLayers(teacher: TextTeacher, student: TextStudent): HiddenMatching {
  const own = encoderLayers(student.encoder);
  const theirs = encoderLayers(teacher.encoder.model);
  if (own.length !== student.keep.length)
    throw new GraftError(
      'BAD_INPUT',
      `the student has ${own.length} layers but keeps ${student.keep.length} of the teacher's`,
    );
  return { student: own.map((l) => l.output), teacher: student.keep.map((k) => theirs[k]!.output) };
}

/** The teacher model with its matched layers' outputs as graph outputs too. */
function withLayerOutputs(model: Model, tensors: readonly string[]): Model {
  const have = new Set(model.graph.outputs.map((v) => v.name));
  const added = tensors
    .filter((t) => !have.has(t))
    .map((name) => ({ name, dtype: 'float32' as const, shape: ['batch', 'sequence', 'hidden'] }));
  return { ...model, graph: { ...model.graph, outputs: [...model.graph.outputs, ...added] } };
}

export interface TeacherHidden {
  /** `source` with the teacher's matched hidden states added to every batch. */
  wrap(source: DataSource): DataSource;
  /** Frees the teacher's session once training is over. */
  release(): Promise<void>;
}

/** A session of the teacher that outputs its matched layers' states, to add them to training batches. */
export async function teacherHidden(
  teacher: TextTeacher,
  m: HiddenMatching,
  session?: SessionOptions,
): Promise<TeacherHidden> {
  const s = await Session.create(withLayerOutputs(teacher.encoder.model, m.teacher), session);
  const feedsOf = (inputs: Readonly<Record<string, Tensor>>) =>
    Object.fromEntries(
      teacher.inputs.map((name) => {
        const t = inputs[name];
        if (!t) throw new GraftError('BAD_INPUT', `the batch has no teacher input '${name}'`);
        return [name, t];
      }),
    );
  return {
    wrap: (source) => ({
      size: source.size,
      async *batches(batchSize, epoch, shuffle) {
        for await (const batch of source.batches(batchSize, epoch, shuffle)) {
          const out = await s.run(feedsOf(batch.inputs), m.teacher);
          const inputs = { ...batch.inputs };
          m.teacher.forEach((name, k) => (inputs[teacherHiddenInput(k)] = out[name]!));
          yield { ...batch, inputs };
        }
      },
    }),
    release: () => s.release(),
  };
}
