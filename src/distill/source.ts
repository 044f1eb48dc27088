/**
 * The transfer set's training batches: the student's inputs (its prefix activations) and the teacher's logits
 * for the *same* images. Without augmentation both are computed once: the teacher's logits through the
 * content-addressed feature cache (features/, keyed by the teacher's bytes, preprocessing and logits tensor,
 * so a second run does no teacher forward pass), the student's in the activation cache. With augmentation
 * every batch is augmented once and both networks run on it (Beyer et al., CVPR 2022: consistent teaching).
 */
import { augmentImage, augmentRng, toRawImage, type AugmentOptions } from '../augment/image.js';
import type { Example, ImageSource } from '../data/types.js';
import { GraftError } from '../errors.js';
import { FeatureExtractor, type ExtractProgress } from '../features/extract.js';
import type { SessionOptions } from '../runtime/session.js';
import type { Tensor } from '../tensor.js';
import { ActivationCache, PrefixRunner, type ActivationSource } from '../strategies/finetune/activations.js';
import { TEACHER_LOGITS } from '../strategies/finetune/suffix-graph.js';
import { arrayDataSource } from '../train/data-source.js';
import { deriveSeed, permutation, Rng } from '../train/random.js';
import type { Batch } from '../train/types.js';
import { selectColumns } from './labels.js';
import type { Teacher } from './teacher.js';

export interface TeacherRunOptions {
  cacheDir?: string | false;
  session?: SessionOptions;
  onProgress?: (p: ExtractProgress) => void;
  signal?: AbortSignal;
}

/** The teacher's logits for examples, in the data's label order ([n, columns.length]); cached on disk. */
export async function teacherLogits(
  teacher: Teacher,
  examples: readonly Example<ImageSource>[],
  columns: Int32Array,
  o: TeacherRunOptions = {},
): Promise<Tensor> {
  const extractor = await FeatureExtractor.create(
    teacher.model,
    teacher.inputName,
    teacher.preprocess,
    [teacher.logits],
    {
      cacheDir: o.cacheDir,
      session: o.session,
    },
  );
  try {
    const set = await extractor.extract(examples, {
      onBadInput: 'fail',
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    if (set.skipped.length)
      throw new GraftError('BAD_INPUT', `the teacher could not read ${set.skipped.length} example(s)`, {
        skipped: set.skipped.slice(0, 5),
      });
    return {
      dtype: 'float32',
      shape: [examples.length, columns.length],
      data: selectColumns(set.matrices[0]!, examples.length, columns),
    };
  } finally {
    await extractor.release();
  }
}

export interface DistillSourceOptions {
  columns: Int32Array;
  /** Labelled and unlabelled (label -1) training examples. */
  examples: readonly Example<ImageSource>[];
  seed: number;
  augment?: AugmentOptions;
  /** Precomputed teacher logits for `examples` (without augmentation). */
  logits?: Tensor;
  /** The teacher up to its logits (with augmentation): its caller creates and releases it. */
  teacherRunner?: PrefixRunner;
}

/** Training batches for a student whose trainable part starts at `runner.output`, each with the teacher's logits. */
export async function distillSource(
  runner: PrefixRunner,
  cache: ActivationCache,
  o: DistillSourceOptions,
): Promise<ActivationSource> {
  const labels = Int32Array.from(o.examples, (e) => e.label);
  if (!o.augment) {
    if (!o.logits)
      throw new GraftError('BAD_OPTION', 'distillSource needs the teacher logits without augmentation');
    const acts = await cache.get(runner, o.examples);
    return {
      ...arrayDataSource({ [runner.output]: acts, [TEACHER_LOGITS]: o.logits }, labels, { seed: o.seed }),
      cached: true,
    };
  }
  const augment = o.augment;
  const teacher = o.teacherRunner;
  if (!teacher)
    throw new GraftError('BAD_OPTION', 'distillSource needs the teacher runner with augmentation');
  const raws = await Promise.all(o.examples.map((e) => toRawImage(e.source)));
  const n = o.examples.length;
  return {
    size: n,
    cached: false,
    async *batches(batchSize: number, epoch: number, shuffle: boolean): AsyncIterable<Batch> {
      const order = shuffle
        ? permutation(n, new Rng(deriveSeed(o.seed, epoch)))
        : Int32Array.from({ length: n }, (_, i) => i);
      for (let s = 0; s < n; s += batchSize) {
        const idx = Array.from(order.subarray(s, Math.min(n, s + batchSize)));
        const imgs = idx.map((i) => augmentImage(raws[i]!, augmentRng(o.seed, epoch, i), augment));
        const [acts, t] = [await runner.run(imgs, batchSize), await teacher.run(imgs, batchSize)];
        const logits: Tensor = {
          dtype: 'float32',
          shape: [idx.length, o.columns.length],
          data: selectColumns(t.data as Float32Array, idx.length, o.columns),
        };
        yield {
          inputs: { [runner.output]: acts, [TEACHER_LOGITS]: logits },
          labels: Int32Array.from(idx, (i) => labels[i]!),
        };
      }
    },
  };
}
