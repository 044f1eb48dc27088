/** Progress: a bar with items/s and ETA on a TTY (cli-progress), JSON lines otherwise, or nothing. */
import cliProgress from 'cli-progress';
import type {
  BatchEndEvent,
  Callback,
  EpochEndEvent,
  EpochStartEvent,
  FitEndEvent,
  FitStartEvent,
} from '../events.js';

export interface ProgressLoggerOptions {
  /** Default process.stderr. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  silent?: boolean;
  /** Force the mode; default: bar on a TTY, JSON lines otherwise. */
  mode?: 'bar' | 'json';
  /** JSON mode: a 'batch' line every N optimizer steps (0: epoch lines only). Default 0. */
  logEverySteps?: number;
}

export class ProgressLogger implements Callback {
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean };
  private readonly mode: 'bar' | 'json' | 'silent';
  private readonly every: number;
  private bar: cliProgress.SingleBar | undefined;
  private trainSize = 0;
  private epochs = 0;
  private startedAt = 0;

  constructor(options: ProgressLoggerOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.mode = options.silent ? 'silent' : (options.mode ?? (this.stream.isTTY ? 'bar' : 'json'));
    this.every = options.logEverySteps ?? 0;
  }

  private line(obj: Record<string, unknown>): void {
    this.stream.write(JSON.stringify(obj) + '\n');
  }

  fitStart(e: FitStartEvent): void {
    this.trainSize = e.trainSize;
    this.epochs = e.epochs;
    if (this.mode === 'json') this.line({ event: 'fitStart', ...e });
  }

  epochStart(e: EpochStartEvent): void {
    this.startedAt = performance.now();
    if (this.mode !== 'bar') return;
    this.bar = new cliProgress.SingleBar(
      {
        stream: this.stream,
        format: `epoch ${e.epoch + 1}/${this.epochs} {bar} {value}/{total} | {rate} items/s | loss {loss} | ETA {eta_formatted}`,
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(this.trainSize, 0, { loss: '-', rate: '-' });
  }

  private rate(samples: number): number {
    const s = (performance.now() - this.startedAt) / 1000;
    return s > 0 ? samples / s : 0;
  }

  batchEnd(e: BatchEndEvent): void {
    if (this.mode === 'bar') {
      this.bar?.update(e.epochSamples, {
        loss: e.loss.toFixed(4),
        rate: this.rate(e.epochSamples).toFixed(1),
      });
    } else if (this.mode === 'json' && this.every > 0 && e.stepped && e.step % this.every === 0) {
      this.line({
        event: 'batch',
        epoch: e.epoch,
        step: e.step,
        loss: e.loss,
        lr: e.lr,
        itemsPerSec: this.rate(e.epochSamples),
      });
    }
  }

  epochEnd(e: EpochEndEvent): void {
    if (this.mode === 'bar') {
      this.bar?.stop();
      this.bar = undefined;
      const m = Object.entries(e.metrics).map(([k, v]) => `${k} ${v.toPrecision(4)}`);
      this.stream.write(`epoch ${e.epoch + 1}/${this.epochs}: ${m.join(', ')}\n`);
    } else if (this.mode === 'json') {
      this.line({
        event: 'epoch',
        epoch: e.epoch,
        ...e.metrics,
        seconds: (performance.now() - this.startedAt) / 1000,
      });
    }
  }

  fitEnd(e: FitEndEvent): void {
    this.bar?.stop();
    if (this.mode === 'json')
      this.line({ event: 'fitEnd', reason: e.reason, epochs: e.history.epochs.length });
  }
}
