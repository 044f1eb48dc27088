/**
 * The recipe runner (learner/run-phases.ts) on a BackboneTrainable: each phase's data is the frozen prefix at the
 * phase's cut, run once per example and cached (augmented training items bypass the cache), and its optimizer
 * has layer-wise param groups when asked.
 */
import type { AugmentOptions } from '../../augment/image.js';
import type { Example, ImageSource } from '../../data/types.js';
import { runPhasesOn, type PhaseData, type PhaseResult } from '../../learner/run-phases.js';
import type { ImagePreprocess } from '../../models/spec.js';
import type { SessionOptions } from '../../runtime/session.js';
import type { Tensor } from '../../tensor.js';
import type { RunOptions } from '../../train/checkpoints.js';
import type { Callback } from '../../train/events.js';
import { createOptimizer, type OptimizerSpec } from '../../train/optimizers/index.js';
import { arrayDataSource } from '../../train/data-source.js';
import { ActivationCache, activationSource, PrefixRunner, type ActivationSource } from './activations.js';
import type { BackboneTrainable } from './backbone-trainable.js';
import { layerwiseGroups, type Phase } from './recipes.js';

export type { PhaseResult } from '../../learner/run-phases.js';

export interface PhaseRunOptions {
  train: readonly Example<ImageSource>[];
  validation?: readonly Example<ImageSource>[];
  preprocess: ImagePreprocess;
  batchSize: number;
  optimizer: 'adam' | 'adamw' | 'sgd';
  weightDecay: number;
  layerwiseLrDecay?: number;
  clipGradNorm?: number;
  accumulateSteps: number;
  augment?: AugmentOptions;
  seed: number;
  checkpointDir?: string;
  saveSteps?: number;
  saveTotalLimit: number;
  /** `true`: the newest intact checkpoint in checkpointDir; a string: a checkpoint-<step> directory or a directory of them. */
  resume: boolean | string;
  /** What the run's weights depend on besides the phases, recorded in checkpoints (a resume must match). */
  run?: RunOptions;
  callbacks?: Callback[];
  /**
   * Builds the training batches from the phase's prefix runner (default `activationSource`: cached activations,
   * or augmented images through the prefix); e.g. distillation adds the teacher's logits to every batch.
   */
  trainSource?: (runner: PrefixRunner, cache: ActivationCache, seed: number) => Promise<ActivationSource>;
  signal?: AbortSignal;
  session?: SessionOptions;
  /** Told once per phase, e.g. whether augmentation bypasses the cache. */
  onPhase?: (info: {
    index: number;
    phase: Phase;
    cut: string;
    trainable: number;
    cached: boolean;
    resumed: boolean;
  }) => void;
}

/** Activations of `examples` at the model's current cut (cached per cut). */
export async function activationsFor(
  model: BackboneTrainable,
  cache: ActivationCache,
  examples: readonly Example<ImageSource>[],
  preprocess: ImagePreprocess,
  session?: SessionOptions,
): Promise<Tensor> {
  const runner = await PrefixRunner.create(
    model.prefixModel(),
    model.options.inputName,
    model.inputName,
    preprocess,
    session,
  );
  try {
    return await cache.get(runner, examples);
  } finally {
    await runner.release();
  }
}

function optimizerSpec(o: PhaseRunOptions, lr: number, model: BackboneTrainable): OptimizerSpec {
  const groups =
    o.layerwiseLrDecay !== undefined
      ? layerwiseGroups(
          model.training.graph,
          model.trainableNames,
          [...model.params.keys()].filter((p) => p.startsWith('head/')),
          o.layerwiseLrDecay,
        )
      : undefined;
  const base = { lr, weightDecay: o.weightDecay, ...(groups ? { groups } : {}) };
  return { kind: o.optimizer, ...base };
}

export async function runPhases(
  model: BackboneTrainable,
  phases: readonly Phase[],
  o: PhaseRunOptions,
  cache = new ActivationCache(),
): Promise<PhaseResult[]> {
  const { results } = await runPhasesOn(model, phases, {
    trainSize: o.train.length,
    batchSize: o.batchSize,
    accumulateSteps: o.accumulateSteps,
    seed: o.seed,
    data: (_index, seed) => openPhase(model, cache, o, seed),
    fit: (phase) => ({
      optimizer: createOptimizer(optimizerSpec(o, phase.lr, model)),
      ...(o.clipGradNorm !== undefined ? { clipGradNorm: o.clipGradNorm } : {}),
    }),
    ...(o.checkpointDir ? { checkpointDir: o.checkpointDir } : {}),
    ...(o.saveSteps !== undefined ? { saveSteps: o.saveSteps } : {}),
    saveTotalLimit: o.saveTotalLimit,
    resume: o.resume,
    run: {
      ...o.run,
      optimizer: o.optimizer,
      weightDecay: o.weightDecay,
      layerwiseLrDecay: o.layerwiseLrDecay ?? null,
      clipGradNorm: o.clipGradNorm ?? null,
      augment: o.augment ?? null,
    },
    ...(o.callbacks ? { callbacks: o.callbacks } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    onPhase: (info) => o.onPhase?.({ ...info, cut: model.inputName, trainable: model.trainableNames.length }),
  });
  return results;
}

/** A phase's data: the frozen prefix at the current cut, training batches (cached or augmented) and validation. */
async function openPhase(
  model: BackboneTrainable,
  cache: ActivationCache,
  o: PhaseRunOptions,
  seed: number,
): Promise<PhaseData> {
  const runner = await PrefixRunner.create(
    model.prefixModel(),
    model.options.inputName,
    model.inputName,
    o.preprocess,
    o.session,
  );
  try {
    const train = o.trainSource
      ? await o.trainSource(runner, cache, seed)
      : await activationSource(runner, cache, o.train, seed, o.augment);
    const validation =
      o.validation && o.validation.length
        ? arrayDataSource(
            { [model.inputName]: await cache.get(runner, o.validation) },
            Int32Array.from(o.validation, (e) => e.label),
          )
        : undefined;
    return {
      train,
      ...(validation ? { validation } : {}),
      cached: train.cached,
      release: () => runner.release(),
    };
  } catch (e) {
    await runner.release();
    throw e;
  }
}
