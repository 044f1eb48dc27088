/**
 * Which `distill` options a run can honour: per option, its flag and the rule that says why a distillation of a
 * given shape (teacher modality and kind, student kind, head) would drop it. Checked by the one checker of
 * pipeline/option-scope.ts, as `graft train`'s table is, so a run names every refused flag in one BAD_OPTION.
 *
 * The table is its own, not rows of `graft train`'s: that table's shape is strategy × head × features, and its
 * remedies name train's flags (`--strategy`, `--features`), which distill does not have; distill's axes are the
 * teacher and the student.
 */
import { first } from '../pipeline/option-rules.js';
import { refuseByRules, type OptionRule } from '../pipeline/option-scope.js';
import type { DistillOptions } from './options.js';
import type { StudentSpec } from './student.js';

/** What a distillation is, as far as which options it can honour. */
export interface DistillShape {
  /** The teacher's: an image classifier (file: or model directory) or a text model directory. */
  modality: 'image' | 'text';
  /** A bare ONNX teacher (`file:`), which has no graft.json. */
  fileTeacher: boolean;
  student: StudentSpec['kind'];
  /** The student's head: mlp with `--head mlp` or the mlp student. */
  head: 'linear' | 'mlp';
  /** An output directory is given (checkpoints live there). */
  out: boolean;
}

type Rule = OptionRule<DistillShape>['rule'];

const TEXT = 'a text student is a shallower copy of its teacher (layers and head)';

const imageOnly =
  (why: string): Rule =>
  (s) =>
    s.modality === 'image' ? undefined : `${why}; ${TEXT}, trained as text fine-tuning trains: drop it`;

/** Switches whose `false` asks for nothing (e.g. `--no-cache` where nothing is cached). */
const unlessFalse =
  (rule: Rule): Rule =>
  (s, v) =>
    v === false ? undefined : rule(s, v);

const fileTeacherOnly =
  (what: string): Rule =>
  (s) =>
    s.fileTeacher
      ? undefined
      : `it is for bare ONNX teachers (file:…); a model directory's graft.json records ${what}`;

export const DISTILL_RULES: Record<string, OptionRule<DistillShape>> = {
  teacherLabels: { flag: '--teacher-labels', rule: fileTeacherOnly('its labels') },
  teacherNormalization: {
    flag: '--teacher-normalization',
    rule: first(imageOnly('it scales pixels'), fileTeacherOnly('its preprocessing')),
  },
  unfreeze: {
    flag: '--unfreeze',
    rule: first(imageOnly('every weight of a text student trains'), (s, v) =>
      s.student === 'mlp' && v !== 'none'
        ? `--unfreeze ${String(v)}: the mlp student is a head on raw pixels; it has no backbone layers to unfreeze`
        : undefined,
    ),
  },
  head: { flag: '--head', rule: imageOnly("it chooses a new head, and a text student keeps its teacher's") },
  hidden: {
    flag: '--hidden',
    rule: first(imageOnly('it sizes an MLP head'), (s) =>
      s.head === 'mlp'
        ? undefined
        : 'it sizes an MLP head: add --head mlp (or use --student mlp); a linear head has no hidden layers',
    ),
  },
  warmStart: {
    flag: '--no-warm-start',
    // Only its `false` asks for something.
    rule: (s, v) =>
      v !== false
        ? undefined
        : first(imageOnly("a text student starts from its teacher's weights, with no probe to skip"), (t) =>
            t.student === 'cnn' || t.student === 'mlp' || t.head === 'mlp'
              ? "only a cut/model student's linear head starts from a probe; this student's head starts from random weights anyway"
              : undefined,
          )(s, v),
  },
  augment: {
    flag: '--augment',
    rule: unlessFalse(
      imageOnly("it augments images; texts are not augmented (the teacher's logits are computed once)"),
    ),
  },
  hiddenLoss: {
    flag: '--hidden-loss',
    rule: (s, v) =>
      s.modality === 'text' || v === 0
        ? undefined
        : "hidden-state matching is built for text students (layers:N), which share their teacher's width and layers; drop it",
  },
  optimizer: { flag: '--optimizer', rule: imageOnly('a text student steps with AdamW and linear decay') },
  cacheDir: {
    flag: '--cache-dir',
    rule: unlessFalse(imageOnly("a text teacher's logits are computed once, in memory, and cached nowhere")),
  },
  resume: {
    flag: '--resume',
    rule: (s, v) =>
      v && !s.out ? 'it needs the output directory whose checkpoints it resumes (out)' : undefined,
  },
};

/** Refuses, naming each flag and why, the options `given` (as the caller set them) that this run would drop. */
export function refuseDistillOptions(
  given: Partial<DistillOptions>,
  modality: 'image' | 'text',
  spec: StudentSpec,
): void {
  const shape: DistillShape = {
    modality,
    fileTeacher: given.teacher?.startsWith('file:') ?? false,
    student: spec.kind,
    head: given.head === 'mlp' || spec.kind === 'mlp' ? 'mlp' : 'linear',
    out: given.out !== undefined,
  };
  refuseByRules(DISTILL_RULES, shape, given as Record<string, unknown>);
}
