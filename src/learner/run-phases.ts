/**
 * The one recipe runner, for every modality: a recipe is a list of phases (what trains, for how many epochs, at
 * which learning rate), run on a learner whose trainable set can change. Per phase: change what trains, ask the
 * modality for the phase's data (an image learner re-runs its frozen prefix when the cut moved; a text learner
 * reuses its token batches), fit with checkpoints (`<checkpointDir>/checkpoint-<step>/`, steps counted over all
 * phases, the phase in the trainer state), and resume from the newest intact one (resuming with none is a
 * BAD_OPTION naming the directory, never a silent fresh start; one written with other options is refused).
 */
import { GraftError } from '../errors.js';
import { Checkpoint, type CheckpointWriter } from '../train/callbacks/checkpoint.js';
import type { CheckpointWriterOptions } from '../train/callbacks/checkpoint.js';
import {
  assertSameRun,
  findResumeCheckpoint,
  type RunOptions,
  type SavedCheckpoint,
} from '../train/checkpoints.js';
import type { Callback } from '../train/events.js';
import type { History } from '../train/history.js';
import type { FitOptions } from '../train/options.js';
import { Trainer } from '../train/trainer.js';
import type { DataSource, TrainableModel } from '../train/types.js';

/** One phase of a recipe; `unfreeze` is the learner's own vocabulary ('none', 'all', 'last:N', 'top:N'…). */
export interface Phase {
  name: string;
  unfreeze: string;
  epochs: number;
  lr: number;
}

/** A model whose trainable set a recipe changes between phases. */
export interface PhasedLearner extends TrainableModel {
  setUnfreeze(spec: string): Promise<void>;
}

/** What a phase trains on, opened after the learner's trainable set changed. */
export interface PhaseData {
  train: DataSource;
  /** Evaluated by the Trainer at every epoch end (val_accuracy picks the best checkpoint). */
  validation?: DataSource;
  /** False when augmentation bypasses a cache of frozen activations. */
  cached: boolean;
  /** Frees what the phase's data holds (e.g. the frozen prefix's session). */
  release?: () => Promise<void>;
}

/** What every phase's checkpoint writer shares; the runner adds the phase index, step offset and history. */
export type PhaseCheckpointContext = Required<
  Pick<CheckpointWriterOptions, 'dir' | 'phase' | 'stepOffset' | 'run'>
> &
  Pick<CheckpointWriterOptions, 'previous' | 'saveTotalLimit'>;

export interface PhaseRunnerOptions {
  /** Training examples (steps per epoch are counted from it). */
  trainSize: number;
  batchSize: number;
  accumulateSteps: number;
  /** Phase i runs with seed + i (data order, dropout). */
  seed: number;
  /** Opens phase i's data (seeded with seed + i). */
  data: (index: number, seed: number) => Promise<PhaseData>;
  /** Trainer options of a phase: optimizer, schedule, clipping (epochs, batch size, seed and resume are set here). */
  fit: (phase: Phase, index: number) => Partial<FitOptions>;
  checkpointDir?: string;
  /** Default checkpoints: every saveSteps optimizer steps and every epoch end. */
  saveSteps?: number;
  saveTotalLimit?: number;
  /**
   * A phase's checkpoint callback and the writer it saves through, in place of the default (e.g. Hugging Face's
   * save and evaluation strategies).
   */
  checkpoints?: (
    c: PhaseCheckpointContext,
    hasValidation: boolean,
  ) => { callback: Callback; writer: CheckpointWriter };
  /** `true`: the newest intact checkpoint in checkpointDir; a string: a checkpoint-<step> directory or a directory of them. */
  resume: boolean | string;
  /** What the run's weights depend on besides what the runner records, kept in checkpoints (a resume must match). */
  run?: RunOptions;
  callbacks?: Callback[];
  signal?: AbortSignal;
  /** Told once per phase, after its data is open. */
  onPhase?: (info: { index: number; phase: Phase; cached: boolean; resumed: boolean }) => void;
}

export interface PhaseResult<P extends Phase = Phase> {
  phase: P;
  history?: History;
  skipped: boolean;
}

export interface PhasesRun<P extends Phase = Phase> {
  results: PhaseResult<P>[];
  /** The last checkpoint writer (its log history and best checkpoint span every phase), when checkpoints were written. */
  writer?: CheckpointWriter;
}

/** Optimizer steps per epoch. */
export function stepsPerEpoch(
  o: Pick<PhaseRunnerOptions, 'trainSize' | 'batchSize' | 'accumulateSteps'>,
): number {
  return Math.ceil(Math.ceil(o.trainSize / o.batchSize) / o.accumulateSteps);
}

/** The record a resume must match: the caller's `run` and the runner's own settings. */
export function phaseRunRecord(phases: readonly Phase[], o: PhaseRunnerOptions): RunOptions {
  return {
    ...o.run,
    phases: phases.map((p) => ({ ...p })),
    batchSize: o.batchSize,
    accumulateSteps: o.accumulateSteps,
    seed: o.seed,
    train: o.trainSize,
  };
}

/** The checkpoint a run resumes from (BAD_OPTION when there is none or it was written with other options). */
export async function resumePoint(
  phases: readonly Phase[],
  o: PhaseRunnerOptions,
): Promise<SavedCheckpoint | undefined> {
  if (!o.resume) return undefined;
  if (!o.checkpointDir)
    throw new GraftError('BAD_OPTION', 'resume needs a checkpoint directory (checkpointDir, or out)');
  const saved = await findResumeCheckpoint(o.resume, o.checkpointDir);
  assertSameRun(saved, phaseRunRecord(phases, o));
  return saved;
}

function defaultCheckpoints(o: PhaseRunnerOptions) {
  return (c: PhaseCheckpointContext, hasValidation: boolean) => {
    const callback = new Checkpoint({
      ...c,
      everySteps: o.saveSteps,
      everyEpoch: true,
      ...(hasValidation ? { best: { monitor: 'val_accuracy', mode: 'max' as const } } : {}),
    });
    return { callback, writer: callback.writer };
  };
}

export async function runPhasesOn<P extends Phase>(
  learner: PhasedLearner,
  phases: readonly P[],
  o: PhaseRunnerOptions,
): Promise<PhasesRun<P>> {
  const run = phaseRunRecord(phases, o);
  const resumed = await resumePoint(phases, o);
  const start = resumed?.trainer.phase ?? 0;
  // Checkpoint names count optimizer steps over the whole run: phase i starts after the steps of those before it.
  const perEpoch = stepsPerEpoch(o);
  const offsets = phases.map((_, i) => phases.slice(0, i).reduce((n, p) => n + p.epochs * perEpoch, 0));
  const makeCheckpoints = o.checkpoints ?? defaultCheckpoints(o);
  let previous: CheckpointWriterOptions['previous'] = resumed?.trainer;
  let writer: CheckpointWriter | undefined;
  const results: PhaseResult<P>[] = phases.slice(0, start).map((phase) => ({ phase, skipped: true }));
  for (let i = start; i < phases.length; i++) {
    const phase = phases[i]!;
    await learner.setUnfreeze(phase.unfreeze);
    const data = await o.data(i, o.seed + i);
    try {
      const resumeState = i === start ? resumed?.state : undefined;
      o.onPhase?.({ index: i, phase, cached: data.cached, resumed: resumeState !== undefined });
      const callbacks: Callback[] = [...(o.callbacks ?? [])];
      const checkpoint = o.checkpointDir
        ? makeCheckpoints(
            {
              dir: o.checkpointDir,
              phase: i,
              stepOffset: offsets[i]!,
              run,
              ...(o.saveTotalLimit !== undefined ? { saveTotalLimit: o.saveTotalLimit } : {}),
              ...(previous ? { previous } : {}),
            },
            data.validation !== undefined,
          )
        : undefined;
      if (checkpoint) callbacks.push(checkpoint.callback);
      const history = await new Trainer().fit(learner, data.train, {
        ...o.fit(phase, i),
        epochs: phase.epochs,
        batchSize: o.batchSize,
        accumulateSteps: o.accumulateSteps,
        seed: o.seed + i,
        ...(data.validation ? { validation: data.validation } : {}),
        callbacks,
        ...(o.signal ? { signal: o.signal } : {}),
        ...(resumeState ? { resume: resumeState } : {}),
      });
      results.push({ phase, history, skipped: false });
      if (checkpoint) {
        writer = checkpoint.writer;
        previous = {
          log_history: writer.logHistory,
          best_metric: writer.bestMetric ?? null,
          best_model_checkpoint: writer.bestModelCheckpoint ?? null,
        };
      }
    } finally {
      await data.release?.();
    }
  }
  return { results, ...(writer ? { writer } : {}) };
}
