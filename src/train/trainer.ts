/** The Trainer: epochs of (accumulated, clipped) optimizer steps, validation, typed events and callbacks. */
import { GraftError } from '../errors.js';
import type {
  Callback,
  StopReason,
  TrainerContext,
  TrainerEventName,
  TrainerEvents,
  TrainingState,
} from './events.js';
import { emptyHistory, type History } from './history.js';
import { clipGradNorm } from './optimizers/index.js';
import { resolveFitOptions, type FitOptions, type ResolvedFit } from './options.js';
import { Rng } from './random.js';
import type { DataSource, TrainableModel } from './types.js';
import { validate } from './validation.js';

function copyParams(p: Map<string, Float32Array>): Map<string, Float32Array> {
  return new Map([...p].map(([k, v]) => [k, v.slice()]));
}

/** Sums n·g over micro-batches and yields the size-weighted mean (no copy when nothing accumulates). */
class GradAccumulator {
  private sum: Map<string, Float32Array> | undefined;
  private single: Map<string, Float32Array> | undefined;
  count = 0;
  samples = 0;

  constructor(private readonly steps: number) {}

  add(g: Map<string, Float32Array>, n: number): void {
    this.count++;
    this.samples += n;
    if (this.steps === 1) {
      this.single = g;
      return;
    }
    this.sum ??= new Map();
    for (const [k, v] of g) {
      let s = this.sum.get(k);
      if (!s) this.sum.set(k, (s = new Float32Array(v.length)));
      for (let i = 0; i < v.length; i++) s[i] = s[i]! + v[i]! * n;
    }
  }

  take(): Map<string, Float32Array> {
    let out = this.single;
    if (this.sum) {
      out = this.sum;
      for (const v of out.values()) for (let i = 0; i < v.length; i++) v[i] = v[i]! / this.samples;
    }
    this.sum = this.single = undefined;
    this.count = this.samples = 0;
    return out!;
  }
}

/**
 * Refuses (SHAPE_MISMATCH) a training state whose parameter names, sizes or shapes are not the model's: a
 * checkpoint from another model or cut never half-loads.
 */
export function assertStateFits(s: TrainingState, model: TrainableModel): void {
  const names = (m: Iterable<string>) => [...m].sort();
  const mine = names(model.params.keys());
  const theirs = names(s.params.keys());
  const missing = mine.filter((k) => !s.params.has(k));
  const extra = theirs.filter((k) => !model.params.has(k));
  const fail = (what: string, details: Record<string, unknown>): never => {
    throw new GraftError('SHAPE_MISMATCH', `the checkpoint does not fit this model: ${what}`, details);
  };
  if (missing.length || extra.length)
    fail(
      `${missing.length} parameter(s) it lacks (${missing.slice(0, 3).join(', ')}), ${extra.length} it has that the model does not (${extra.slice(0, 3).join(', ')})`,
      { missing: missing.slice(0, 20), extra: extra.slice(0, 20) },
    );
  for (const [k, v] of s.params) {
    const shape = model.shapeOf?.(k);
    const saved = s.shapes?.[k];
    if (model.params.get(k)!.length !== v.length || (shape && saved && shape.join() !== saved.join()))
      fail(
        `parameter '${k}' has shape [${saved ?? v.length}] there, [${shape ?? model.params.get(k)!.length}] here`,
        {
          name: k,
        },
      );
  }
}

export class Trainer {
  private readonly listeners: Callback[] = [];

  /** Adds a one-event listener (a callback object with a single method). */
  on<K extends TrainerEventName>(
    event: K,
    fn: (e: TrainerEvents[K], ctx: TrainerContext) => void | Promise<void>,
  ): this {
    this.listeners.push({ [event]: fn } as Callback);
    return this;
  }

  async fit(model: TrainableModel, train: DataSource, options: Partial<FitOptions> = {}): Promise<History> {
    return new FitRun(model, train, resolveFitOptions(train.size, options), this.listeners).run();
  }
}

/** Trains `model` on `train`; see FitOptions for the defaults. */
export function fit(
  model: TrainableModel,
  train: DataSource,
  options: Partial<FitOptions> = {},
): Promise<History> {
  return new Trainer().fit(model, train, options);
}

class FitRun {
  private readonly callbacks: Callback[];
  private readonly rng: Rng;
  private history: History = emptyHistory();
  private step = 0;
  private epoch = 0;
  private batchInEpoch = 0;
  private epochLossSum = 0;
  private epochSamples = 0;
  private stopReason: StopReason | undefined;
  private readonly ctx: TrainerContext;
  /** Draws from the trainer's generator (dropout noise): its state is in every checkpoint. */
  private readonly uniform = (): number => this.rng.next();

  constructor(
    private readonly model: TrainableModel,
    private readonly train: DataSource,
    private readonly o: ResolvedFit,
    listeners: Callback[],
  ) {
    this.callbacks = [...o.callbacks, ...listeners];
    this.rng = new Rng(o.seed);
    const self = this;
    this.ctx = {
      model,
      optimizer: o.optimizer,
      rng: this.rng,
      get history() {
        return self.history;
      },
      stop: (reason = 'stopped') => void (this.stopReason ??= reason),
      snapshot: () => this.snapshot(),
    };
  }

  private async emit<K extends TrainerEventName>(name: K, event: TrainerEvents[K]): Promise<void> {
    for (const cb of this.callbacks) {
      const fn = cb[name] as ((e: TrainerEvents[K], c: TrainerContext) => void | Promise<void>) | undefined;
      if (fn) await fn.call(cb, event, this.ctx);
    }
  }

  private snapshot(): TrainingState {
    const shapes: Record<string, number[]> = {};
    for (const k of this.model.params.keys()) {
      const shape = this.model.shapeOf?.(k);
      if (shape) shapes[k] = [...shape];
    }
    return {
      version: 1,
      epoch: this.epoch,
      batchInEpoch: this.batchInEpoch,
      step: this.step,
      epochLossSum: this.epochLossSum,
      epochSamples: this.epochSamples,
      rngState: this.rng.state,
      history: structuredClone(this.history),
      params: copyParams(this.model.params),
      ...(Object.keys(shapes).length ? { shapes } : {}),
      optimizer: this.o.optimizer.state(),
    };
  }

  private restore(s: TrainingState): void {
    assertStateFits(s, this.model);
    for (const [k, v] of s.params) this.model.params.get(k)!.set(v);
    this.o.optimizer.loadState(s.optimizer);
    Object.assign(this, {
      epoch: s.epoch,
      batchInEpoch: s.batchInEpoch,
      step: s.step,
      epochLossSum: s.epochLossSum,
      epochSamples: s.epochSamples,
      history: structuredClone(s.history),
    });
    this.rng.state = s.rngState;
  }

  /** True when training must stop now; throws on abort unless onCancel is 'stop'. */
  private shouldStop(): boolean {
    if (this.o.signal?.aborted) {
      if (this.o.onCancel === 'throw') {
        throw new GraftError('CANCELLED', 'training was cancelled', { epoch: this.epoch, step: this.step });
      }
      this.stopReason ??= 'cancelled';
    }
    return this.stopReason !== undefined;
  }

  async run(): Promise<History> {
    const o = this.o;
    if (o.resume) this.restore(o.resume);
    await this.emit('fitStart', {
      epochs: o.epochs,
      stepsPerEpoch: o.stepsPerEpoch,
      totalSteps: o.totalSteps,
      trainSize: this.train.size,
      batchSize: o.batchSize,
      ...(o.resume ? { resumedAt: { epoch: this.epoch, step: this.step } } : {}),
    });
    while (this.epoch < o.epochs && !this.shouldStop()) {
      await this.runEpoch();
      if (this.stopReason) break;
    }
    this.history.stopReason = this.stopReason ?? 'completed';
    await this.emit('fitEnd', { history: this.history, reason: this.history.stopReason });
    return this.history;
  }

  private async runEpoch(): Promise<void> {
    const o = this.o;
    const skip = this.batchInEpoch;
    if (skip === 0) this.epochLossSum = this.epochSamples = 0;
    await this.emit('epochStart', { epoch: this.epoch, skippedBatches: skip });
    const acc = new GradAccumulator(o.accumulateSteps);
    let index = 0;
    for await (const batch of this.train.batches(o.batchSize, this.epoch, o.shuffle)) {
      if (index++ < skip) continue;
      if (acc.count === 0 && this.shouldStop()) return;
      const { loss, gradients } = await this.model.computeGradients(batch, this.uniform);
      if (!Number.isFinite(loss)) this.diverged(loss);
      const n = batch.labels.length;
      acc.add(gradients, n);
      this.epochLossSum += loss * n;
      this.epochSamples += n;
      this.batchInEpoch++;
      const stepped = acc.count === o.accumulateSteps;
      const info = stepped ? this.optimizerStep(acc) : { lr: o.schedule.lrAt(this.step) };
      await this.emit('batchEnd', {
        epoch: this.epoch,
        batch: this.batchInEpoch - 1,
        step: this.step,
        stepped,
        loss,
        samples: n,
        epochSamples: this.epochSamples,
        ...info,
      });
    }
    if (acc.count > 0) this.optimizerStep(acc);
    await this.endEpoch();
  }

  /**
   * A loss that is NaN or infinite only gets worse: training stops with the step, the rate and what to do,
   * instead of saving a model of NaN weights.
   */
  private diverged(loss: number): never {
    const lr = this.o.schedule.lrAt(this.step);
    throw new GraftError(
      'BAD_OPTION',
      `training diverged: the loss became ${loss} at epoch ${this.epoch + 1}, step ${this.step} with learning rate ${lr}: ` +
        `lower the learning rate (--lr ${lr / 10} or less)`,
      { epoch: this.epoch, step: this.step, lr, loss },
    );
  }

  private optimizerStep(acc: GradAccumulator): { lr: number; gradNorm?: number } {
    const grads = acc.take();
    const gradNorm = this.o.clipGradNorm !== undefined ? clipGradNorm(grads, this.o.clipGradNorm) : undefined;
    const lr = this.o.schedule.lrAt(this.step);
    this.o.optimizer.lr = lr;
    this.o.optimizer.step(this.model.params, grads);
    this.step++;
    return gradNorm === undefined ? { lr } : { lr, gradNorm };
  }

  private async endEpoch(): Promise<void> {
    const o = this.o;
    const trainLoss = this.epochSamples ? this.epochLossSum / this.epochSamples : NaN;
    const metrics: Record<string, number> = { train_loss: trainLoss, lr: o.optimizer.lr };
    let valLoss: number | undefined;
    if (o.validation) {
      const v = await validate(this.model, o.validation, o.validationBatchSize ?? o.batchSize);
      Object.assign(metrics, v.metrics);
      valLoss = v.metrics.val_loss;
      await this.emit('validate', { epoch: this.epoch, metrics: v.metrics });
    }
    const record = {
      epoch: this.epoch,
      trainLoss,
      metrics,
      step: this.step,
      ...(valLoss === undefined ? {} : { valLoss }),
    };
    this.history.epochs.push(record);
    // the state now points at the next epoch, so that a checkpoint written in epochEnd resumes there
    this.epoch++;
    this.batchInEpoch = 0;
    this.epochLossSum = this.epochSamples = 0;
    await this.emit('epochEnd', {
      epoch: record.epoch,
      trainLoss,
      metrics,
      ...(valLoss === undefined ? {} : { valLoss }),
    });
  }
}
