/**
 * Hugging Face Trainer behaviour as one graft Trainer callback: logging every loggingSteps, evaluation by steps
 * or epochs, checkpoints `checkpoint-<step>/` every saveSteps (or epoch) with trainer_state.json, rotation to
 * saveTotalLimit that never deletes the best checkpoint (HF's _sorted_checkpoints/_rotate_checkpoints), and the
 * best metric tracked for loadBestModelAtEnd.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { GraftError } from '../../errors.js';
import { loadCheckpoint, saveCheckpoint } from '../../train/checkpoint-io.js';
import type {
  BatchEndEvent,
  Callback,
  EpochEndEvent,
  TrainerContext,
  TrainingState,
} from '../../train/events.js';
import { writeFileAtomic } from '../../util/atomic.js';
import type { ResolvedTextTrainingArguments } from './arguments.js';

export type LogEntry = { step: number; epoch: number } & Record<string, number>;

export const STATE_FILE = 'training_state.ckpt';
export const TRAINER_STATE = 'trainer_state.json';
const CHECKPOINT = /^checkpoint-(\d+)$/;

export interface TrainerStateJson {
  global_step: number;
  epoch: number;
  log_history: LogEntry[];
  best_metric: number | null;
  best_model_checkpoint: string | null;
}

/** checkpoint-<step> directories in `dir`, oldest first. */
export async function listCheckpointDirs(dir: string): Promise<{ path: string; step: number }[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names
    .flatMap((n) => {
      const m = CHECKPOINT.exec(n);
      return m ? [{ path: join(dir, n), step: Number(m[1]) }] : [];
    })
    .sort((a, b) => a.step - b.step);
}

/** A checkpoint directory's training state and trainer_state.json (GraftError when unreadable). */
export async function readCheckpointDir(
  path: string,
): Promise<{ state: TrainingState; trainer: TrainerStateJson }> {
  const state = await loadCheckpoint(join(path, STATE_FILE));
  let trainer: TrainerStateJson | undefined;
  try {
    trainer = JSON.parse(await readFile(join(path, TRAINER_STATE), 'utf8')) as TrainerStateJson;
  } catch {
    trainer = undefined;
  }
  if (!state || !trainer)
    throw new GraftError('CORRUPT_MODEL', `'${path}' is not a readable graft checkpoint`, { path });
  return { state, trainer };
}

export class HfTrainerCallback implements Callback {
  readonly logHistory: LogEntry[] = [];
  bestMetric: number | undefined;
  bestModelCheckpoint: string | undefined;
  private lossSum = 0;
  private lossCount = 0;
  private lastStep = 0;

  constructor(
    private readonly args: ResolvedTextTrainingArguments,
    private readonly stepsPerEpoch: number,
    /** Evaluates the model on the evaluation set; keys like eval_loss, eval_accuracy. */
    private readonly evaluate: () => Promise<Record<string, number>>,
    private readonly onLog?: (entry: LogEntry) => void,
    resumed?: TrainerStateJson,
  ) {
    if (resumed) {
      this.logHistory.push(...resumed.log_history);
      this.bestMetric = resumed.best_metric ?? undefined;
      this.bestModelCheckpoint = resumed.best_model_checkpoint ?? undefined;
    }
  }

  private log(step: number, values: Record<string, number>): void {
    const entry = { ...values, epoch: Math.round((step / this.stepsPerEpoch) * 100) / 100, step } as LogEntry;
    this.logHistory.push(entry);
    this.onLog?.(entry);
  }

  async batchEnd(e: BatchEndEvent, ctx: TrainerContext): Promise<void> {
    this.lossSum += e.loss;
    this.lossCount++;
    if (!e.stepped) return;
    this.pendingMetric = undefined;
    const a = this.args;
    const step = (this.lastStep = e.step);
    if (step % a.loggingSteps === 0) {
      this.log(step, { loss: this.lossSum / this.lossCount, learning_rate: e.lr });
      this.lossSum = this.lossCount = 0;
    }
    if (a.evaluationStrategy === 'steps' && step % a.evalSteps === 0) await this.runEvaluation(step);
    if (a.saveStrategy === 'steps' && step % a.saveSteps === 0) await this.save(ctx);
  }

  async epochEnd(_e: EpochEndEvent, ctx: TrainerContext): Promise<void> {
    this.pendingMetric = undefined;
    if (this.args.evaluationStrategy === 'epoch') await this.runEvaluation(this.lastStep);
    if (this.args.saveStrategy === 'epoch') await this.save(ctx);
  }

  private pendingMetric: number | undefined;

  private async runEvaluation(step: number): Promise<void> {
    const metrics = await this.evaluate();
    this.log(step, metrics);
    const name = this.args.metricForBestModel;
    const v = metrics[name];
    if (v === undefined)
      throw new GraftError(
        'BAD_OPTION',
        `metricForBestModel '${name}' is not one of ${Object.keys(metrics).join(', ')}`,
      );
    this.pendingMetric = v;
  }

  private async save(ctx: TrainerContext): Promise<void> {
    const state = ctx.snapshot();
    const dir = join(this.args.outputDir, `checkpoint-${state.step}`);
    await mkdir(dir, { recursive: true });
    const v = this.pendingMetric;
    this.pendingMetric = undefined;
    if (v !== undefined) {
      const better = this.args.greaterIsBetter ? (b: number) => v > b : (b: number) => v < b;
      if (this.bestMetric === undefined || better(this.bestMetric)) {
        this.bestMetric = v;
        this.bestModelCheckpoint = dir;
      }
    }
    await saveCheckpoint(join(dir, STATE_FILE), state);
    const trainer: TrainerStateJson = {
      global_step: state.step,
      epoch: state.step / this.stepsPerEpoch,
      log_history: this.logHistory,
      best_metric: this.bestMetric ?? null,
      best_model_checkpoint: this.bestModelCheckpoint ?? null,
    };
    await writeFileAtomic(join(dir, TRAINER_STATE), `${JSON.stringify(trainer, null, 2)}\n`);
    await this.rotate();
  }

  /** HF: the best checkpoint is moved next to the newest before the oldest beyond saveTotalLimit go. */
  private async rotate(): Promise<void> {
    let limit = this.args.saveTotalLimit;
    if (limit === undefined) return;
    const sorted = (await listCheckpointDirs(this.args.outputDir)).map((c) => c.path);
    const best = this.bestModelCheckpoint;
    const at = best ? sorted.indexOf(best) : -1;
    if (at >= 0)
      for (let i = at; i < sorted.length - 2; i++) [sorted[i], sorted[i + 1]] = [sorted[i + 1]!, sorted[i]!];
    if (limit === 1 && best && sorted.at(-1) !== best) limit = 2;
    for (const old of sorted.slice(0, Math.max(0, sorted.length - limit)))
      await rm(old, { recursive: true, force: true });
  }
}
