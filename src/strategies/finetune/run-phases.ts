/**
 * Runs a recipe's phases on a BackboneTrainable: per phase, change what is trainable (rebuilding the graphs),
 * rebuild the frozen prefix and its cached activations when the cut moved, build the optimizer (layer-wise
 * param groups), fit with checkpoints (`<checkpointDir>/checkpoint-<step>/`, steps counted over all phases,
 * the phase in the trainer state), and resume from the newest intact one (resuming with none is a BAD_OPTION
 * naming the directory, never a silent fresh start; one written with other options is refused).
 */
import { GraftError } from '../../errors.js';
import type { AugmentOptions } from '../../augment/image.js';
import type { Example, ImageSource } from '../../data/types.js';
import type { ImagePreprocess } from '../../models/spec.js';
import type { SessionOptions } from '../../runtime/session.js';
import type { Tensor } from '../../tensor.js';
import { Checkpoint, type CheckpointWriterOptions } from '../../train/callbacks/checkpoint.js';
import {
  assertSameRun,
  findResumeCheckpoint,
  type RunOptions,
  type SavedCheckpoint,
} from '../../train/checkpoints.js';
import type { Callback } from '../../train/events.js';
import type { History } from '../../train/history.js';
import { createOptimizer, type OptimizerSpec } from '../../train/optimizers/index.js';
import { arrayDataSource } from '../../train/data-source.js';
import { Trainer } from '../../train/trainer.js';
import { ActivationCache, activationSource, PrefixRunner, type ActivationSource } from './activations.js';
import type { BackboneTrainable } from './backbone-trainable.js';
import { layerwiseGroups, type Phase } from './recipes.js';

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

export interface PhaseResult {
  phase: Phase;
  history?: History;
  skipped: boolean;
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
  const dir = o.checkpointDir;
  const run: RunOptions = {
    ...o.run,
    phases: phases.map((p) => ({ ...p })),
    batchSize: o.batchSize,
    optimizer: o.optimizer,
    weightDecay: o.weightDecay,
    layerwiseLrDecay: o.layerwiseLrDecay ?? null,
    clipGradNorm: o.clipGradNorm ?? null,
    accumulateSteps: o.accumulateSteps,
    augment: o.augment ?? null,
    seed: o.seed,
    train: o.train.length,
  };
  let resumed: SavedCheckpoint | undefined;
  if (o.resume) {
    if (!dir)
      throw new GraftError('BAD_OPTION', 'resume needs a checkpoint directory (checkpointDir, or out)');
    resumed = await findResumeCheckpoint(o.resume, dir);
    assertSameRun(resumed, run);
  }
  const start = resumed?.trainer.phase ?? 0;
  // Checkpoint names count optimizer steps over the whole run: phase i starts after the steps of those before it.
  const stepsPerEpoch = Math.ceil(Math.ceil(o.train.length / o.batchSize) / o.accumulateSteps);
  const offsets = phases.map((_, i) => phases.slice(0, i).reduce((n, p) => n + p.epochs * stepsPerEpoch, 0));
  let previous: CheckpointWriterOptions['previous'] = resumed?.trainer;
  const results: PhaseResult[] = phases.slice(0, start).map((phase) => ({ phase, skipped: true }));
  for (let i = start; i < phases.length; i++) {
    const phase = phases[i]!;
    await model.setUnfreeze(phase.unfreeze);
    const runner = await PrefixRunner.create(
      model.prefixModel(),
      model.options.inputName,
      model.inputName,
      o.preprocess,
      o.session,
    );
    try {
      const train = o.trainSource
        ? await o.trainSource(runner, cache, o.seed + i)
        : await activationSource(runner, cache, o.train, o.seed + i, o.augment);
      const validation =
        o.validation && o.validation.length
          ? arrayDataSource(
              { [model.inputName]: await cache.get(runner, o.validation) },
              Int32Array.from(o.validation, (e) => e.label),
            )
          : undefined;
      const resumeState = i === start ? resumed?.state : undefined;
      o.onPhase?.({
        index: i,
        phase,
        cut: model.inputName,
        trainable: model.trainableNames.length,
        cached: train.cached,
        resumed: resumeState !== undefined,
      });
      const callbacks: Callback[] = [...(o.callbacks ?? [])];
      const checkpoint = dir
        ? new Checkpoint({
            dir,
            everySteps: o.saveSteps,
            everyEpoch: true,
            saveTotalLimit: o.saveTotalLimit,
            phase: i,
            stepOffset: offsets[i]!,
            run,
            ...(previous ? { previous } : {}),
            ...(validation ? { best: { monitor: 'val_accuracy', mode: 'max' as const } } : {}),
          })
        : undefined;
      if (checkpoint) callbacks.push(checkpoint);
      const history = await new Trainer().fit(model, train, {
        epochs: phase.epochs,
        batchSize: o.batchSize,
        optimizer: createOptimizer(optimizerSpec(o, phase.lr, model)),
        seed: o.seed + i,
        accumulateSteps: o.accumulateSteps,
        ...(o.clipGradNorm !== undefined ? { clipGradNorm: o.clipGradNorm } : {}),
        ...(validation ? { validation } : {}),
        callbacks,
        ...(o.signal ? { signal: o.signal } : {}),
        ...(resumeState ? { resume: resumeState } : {}),
      });
      results.push({ phase, history, skipped: false });
      if (checkpoint) {
        const w = checkpoint.writer;
        previous = {
          log_history: w.logHistory,
          best_metric: w.bestMetric ?? null,
          best_model_checkpoint: w.bestModelCheckpoint ?? null,
        };
      }
    } finally {
      await runner.release();
    }
  }
  return results;
}
