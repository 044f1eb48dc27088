/**
 * Options of `distill` (library) and `graft distill` (CLI), defaults in one place.
 *
 * Temperature 4 and α = 0.9 with unlabelled data (0.5 without): Hinton et al. (2015) found intermediate
 * temperatures best when the student is much smaller than the teacher, and weighted the soft targets far above
 * the hard labels (the hard term "a considerably lower weight"); T in 2–5 is the range later work settled on
 * (e.g. 4 in Cho & Hariharan 2019 and torchdistill's configurations). When most of the transfer set is
 * unlabelled, the soft targets are the only signal for most examples and the few hard labels mainly correct
 * the teacher's mistakes, hence α = 0.9; with every example labelled, the two terms are weighed equally (0.5).
 */
import type { AugmentOptions } from '../augment/image.js';
import type { BadInputPolicy, Dataset, ImageSource } from '../data/types.js';
import { GraftError } from '../errors.js';
import type { TrainEvent } from '../pipeline/events.js';
import type { UnfreezeSpec } from '../strategies/finetune/cut.js';
import type { StudentSpec } from './student.js';
import type { TeacherNormalization } from './teacher.js';
import type { RunOptions } from '../train/checkpoints.js';

export interface DistillOptions {
  /** Labelled data: a dataset spec (folder, .csv, .jsonl, `mnist`) or a loaded image dataset. */
  data: string | Dataset;
  /** A graft model directory, or `file:<model.onnx>` with `teacherLabels`. */
  teacher: string;
  /** The output columns' classes of a `file:` teacher. */
  teacherLabels?: string[];
  /** Pixel scaling of a `file:` teacher (default 'unit': 0..1). */
  teacherNormalization?: TeacherNormalization;
  /** `cut:<tensor>[@2x2]`, `model:<registry id>[:<tensor>]`, `cnn` or `mlp` (see distill/student.ts). */
  student: string;
  /**
   * Unlabelled examples for the transfer set (soft targets only). Image teachers: a dataset spec (labels
   * ignored), a folder of images, a manifest with a `path` column, or image sources. Text teachers: a CSV / JSONL
   * with a `text` column (no label needed), a folder of `.txt` files, or the texts themselves.
   */
  unlabeled?: string | readonly ImageSource[];
  /** Softening temperature T (default 4). */
  temperature: number;
  /** Weight of the soft-target term (default 0.9 with unlabelled data, else 0.5). */
  alpha?: number;
  /**
   * Text students: weight of hidden-state matching, the masked MSE between each student layer's output and the
   * output of the teacher layer it came from, added to the distillation loss (default 0: off).
   */
  hiddenLoss?: number;
  /** Data label → teacher label, where their names differ. */
  labelMap?: Record<string, string>;
  out?: string;
  /** What of the student trains (default: everything for cnn, the head for cut/model students). */
  unfreeze?: UnfreezeSpec;
  head: 'linear' | 'mlp';
  /**
   * Start a pre-trained student's linear head from a converged linear probe (L-BFGS on the labelled examples'
   * cached features), as LP-FT does, rather than from random weights (default true; scratch students and MLP
   * heads start from random weights).
   */
  warmStart: boolean;
  hidden: number[];
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: 'adam' | 'adamw' | 'sgd';
  weightDecay: number;
  /** Augment the transfer set: both networks then see the same augmented batch. */
  augment: AugmentOptions | boolean;
  shots?: number;
  valSplit: number;
  testSplit: number;
  seed: number;
  /** Feature cache directory (false: none; default ~/.cache/graft). */
  cacheDir?: string | false;
  threads?: number;
  onBadInput: BadInputPolicy;
  saveSteps?: number;
  saveTotalLimit: number;
  /** Resume from the newest intact checkpoint in `<out>/checkpoints` (or this directory). */
  resume?: boolean | string;
  /** Timed rounds of the teacher/student throughput comparison (0 skips it). */
  speedRounds: number;
  signal?: AbortSignal;
  onEvent?: (e: TrainEvent) => void;
}

export const DISTILL_DEFAULTS: Omit<DistillOptions, 'data' | 'teacher' | 'student'> = {
  temperature: 4,
  head: 'linear',
  warmStart: true,
  hidden: [256],
  epochs: 10,
  batchSize: 64,
  lr: 1e-3,
  optimizer: 'adam',
  weightDecay: 0,
  augment: false,
  valSplit: 0.1,
  testSplit: 0.1,
  seed: 0,
  onBadInput: 'skip',
  saveTotalLimit: 2,
  speedRounds: 5,
};

/**
 * Text students start from their teacher's own fine-tuned weights, so they train as fine-tuning does: the
 * Hugging Face Trainer's learning rate 5e-5 and 3 epochs, batch 32 (text fine-tuning's AdamW and linear decay).
 */
export const TEXT_DISTILL_DEFAULTS: Partial<DistillOptions> = { epochs: 3, lr: 5e-5, batchSize: 32 };

/** α when not given: 0.9 with unlabelled data, 0.5 without. */
/**
 * What every distillation run's weights depend on, for either modality (checkpoints record it; a resume must
 * match); each modality adds its own student details.
 */
export function distillRunOptions(
  o: DistillOptions & { alpha: number },
  modality: 'image' | 'text',
  labels: readonly string[],
): RunOptions {
  return {
    modality,
    distill: {
      teacher: o.teacher,
      student: o.student,
      temperature: o.temperature,
      alpha: o.alpha,
      // Recorded only when on, so checkpoints written before the option existed still resume.
      ...(o.hiddenLoss ? { hiddenLoss: o.hiddenLoss } : {}),
    },
    labels,
  };
}

export const defaultAlpha = (hasUnlabeled: boolean): number => (hasUnlabeled ? 0.9 : 0.5);

export function resolveDistillOptions(
  options: Partial<DistillOptions> & Pick<DistillOptions, 'data' | 'teacher' | 'student'>,
  modality: 'image' | 'text' = 'image',
): DistillOptions & { alpha: number } {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const o = {
    ...DISTILL_DEFAULTS,
    ...(modality === 'text' ? TEXT_DISTILL_DEFAULTS : {}),
    ...defined,
  } as DistillOptions;
  const alpha = o.alpha ?? defaultAlpha(o.unlabeled !== undefined);
  if (!(o.temperature > 0) || !Number.isFinite(o.temperature))
    throw new GraftError('BAD_OPTION', `--temperature must be a number > 0, got ${o.temperature}`);
  if (!(alpha >= 0 && alpha <= 1))
    throw new GraftError('BAD_OPTION', `--alpha must be in [0, 1], got ${alpha}`);
  if (o.hiddenLoss !== undefined && !(o.hiddenLoss >= 0 && Number.isFinite(o.hiddenLoss)))
    throw new GraftError('BAD_OPTION', `--hidden-loss must be a weight ≥ 0, got ${o.hiddenLoss}`);
  return { ...o, alpha };
}

/** A text teacher teaches a shallower copy of its own encoder: any other student spec is refused. */
export function assertTextStudent(
  given: Pick<DistillOptions, 'student'>,
  spec: StudentSpec,
): asserts spec is Extract<StudentSpec, { kind: 'layers' }> {
  if (spec.kind !== 'layers')
    throw new GraftError(
      'BAD_OPTION',
      `--student ${given.student}: a text teacher teaches a shallower copy of its own encoder; use --student layers:<N> or layers:<i,j,…>`,
    );
}
