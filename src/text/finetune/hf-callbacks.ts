/**
 * Hugging Face Trainer behaviour as one graft Trainer callback: logging every loggingSteps, evaluation by steps
 * or epochs, checkpoints (the one format, src/train/checkpoints.ts) every saveSteps or epoch, rotated to
 * saveTotalLimit without ever deleting the best (HF's _rotate_checkpoints), and the best metric tracked for
 * loadBestModelAtEnd.
 */
import { GraftError } from '../../errors.js';
import type { CheckpointWriter } from '../../train/callbacks/checkpoint.js';
import type { LogEntry } from '../../train/checkpoints.js';
import type { BatchEndEvent, Callback, EpochEndEvent, TrainerContext } from '../../train/events.js';
import type { ResolvedTextTrainingArguments } from './arguments.js';

export type { LogEntry } from '../../train/checkpoints.js';

export class HfTrainerCallback implements Callback {
  private lossSum = 0;
  private lossCount = 0;
  private lastStep = 0;
  private pendingMetric: number | undefined;

  constructor(
    private readonly args: ResolvedTextTrainingArguments,
    private readonly stepsPerEpoch: number,
    /** Evaluates the model on the evaluation set; keys like eval_loss, eval_accuracy. */
    private readonly evaluate: () => Promise<Record<string, number>>,
    /** Writes the checkpoints and holds the log history and the best metric (carried over on resume). */
    readonly writer: CheckpointWriter,
    private readonly onLog?: (entry: LogEntry) => void,
  ) {}

  get logHistory(): LogEntry[] {
    return this.writer.logHistory;
  }

  get bestMetric(): number | undefined {
    return this.writer.bestMetric;
  }

  get bestModelCheckpoint(): string | undefined {
    return this.writer.bestModelCheckpoint;
  }

  private log(step: number, values: Record<string, number>): void {
    const entry = { ...values, epoch: Math.round((step / this.stepsPerEpoch) * 100) / 100, step } as LogEntry;
    this.writer.logHistory.push(entry);
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
    const metric = this.pendingMetric;
    this.pendingMetric = undefined;
    await this.writer.save(state, state.step / this.stepsPerEpoch, metric);
  }
}
