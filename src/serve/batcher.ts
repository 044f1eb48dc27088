/**
 * Dynamic batching across concurrent callers: already-preprocessed feeds are queued; when the queue holds
 * `maxBatch` rows, or `maxWaitMs` after the first one arrived, ONE session.run takes the concatenation and the
 * output rows are split back to their callers. While a run is in progress, the next batch is handed to the
 * session as soon as half a batch has queued up, so that it starts the moment the run ends (a worker session
 * runs them one after another); whatever queued during a run otherwise goes next. Only feeds with the same
 * per-row shapes are concatenated (text models may pad differently per request).
 */
import { GraftError } from '../errors.js';
import { runBatched } from '../runtime/batching.js';
import { concatFeeds, type Feeds, type Session } from '../runtime/session.js';

export interface BatcherOptions {
  maxBatch: number;
  maxWaitMs: number;
  /** The output holding one row per input (class probabilities). */
  outputName: string;
  /** Called after every session.run with its row count and duration. */
  onBatch?: (rows: number, seconds: number) => void;
}

interface Item {
  feeds: Feeds;
  rows: number;
  signature: string;
  resolve: (rows: Float32Array) => void;
  reject: (e: unknown) => void;
  detach: () => void;
}

function signatureOf(feeds: Feeds): string {
  return Object.keys(feeds)
    .sort()
    .map((k) => `${k}:${feeds[k]!.dtype}:${feeds[k]!.shape.slice(1).join('x')}`)
    .join('|');
}

function rowsOf(feeds: Feeds): number {
  const all = Object.entries(feeds);
  const n = all[0]?.[1].shape[0];
  if (n === undefined) throw new GraftError('BAD_INPUT', 'no input tensors to run');
  for (const [name, t] of all) {
    if (t.shape[0] !== n)
      throw new GraftError('SHAPE_MISMATCH', `input '${name}' has ${t.shape[0]} rows, expected ${n}`);
  }
  return n;
}

/** Batches handed to the session at once: one running, one waiting to start the moment it ends. */
const MAX_IN_FLIGHT = 2;

export class Batcher {
  private queue: Item[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  /** When the last batch's result came back: a waiting batch's run started no earlier. */
  private lastEnd = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly session: Session,
    private readonly options: BatcherOptions,
  ) {}

  /** Rows waiting for a batch now. */
  get queuedRows(): number {
    return this.queue.reduce((n, it) => n + it.rows, 0);
  }

  /**
   * Runs `feeds` ([n, …] each) as part of a batch and resolves to the output's n rows, row-major. Aborting
   * `signal` while the feeds still wait in the queue withdraws them (GraftError CANCELLED).
   */
  submit(feeds: Feeds, signal?: AbortSignal): Promise<Float32Array> {
    const rows = rowsOf(feeds);
    if (rows === 0) return Promise.resolve(new Float32Array(0));
    if (signal?.aborted)
      return Promise.reject(new GraftError('CANCELLED', 'request cancelled before inference'));
    return new Promise<Float32Array>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.queue.indexOf(item);
        if (i < 0) return;
        this.queue.splice(i, 1);
        reject(new GraftError('CANCELLED', 'request cancelled while waiting for a batch'));
        this.settleIdle();
      };
      const item: Item = {
        feeds,
        rows,
        signature: signatureOf(feeds),
        resolve,
        reject,
        detach: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(item);
      this.schedule();
    });
  }

  /** Resolves once nothing is queued or running. */
  drain(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private schedule(): void {
    if (this.queue.length === 0) return;
    const { maxBatch, maxWaitMs } = this.options;
    if (this.inFlight === 0) {
      if (this.queuedRows >= maxBatch || maxWaitMs === 0) void this.flush();
      else
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          if (this.inFlight === 0) void this.flush();
          else this.schedule();
        }, maxWaitMs);
    } else if (this.inFlight < MAX_IN_FLIGHT && this.queuedRows >= Math.ceil(maxBatch / 2)) {
      void this.flush();
    }
  }

  /** The next batch: the oldest item, then later items with the same signature while they fit. */
  private take(): Item[] {
    const first = this.queue[0]!;
    const batch = [first];
    let rows = first.rows;
    for (const it of this.queue.slice(1)) {
      if (it.signature !== first.signature || rows + it.rows > this.options.maxBatch) continue;
      batch.push(it);
      rows += it.rows;
    }
    this.queue = this.queue.filter((it) => !batch.includes(it));
    return batch;
  }

  private async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.inFlight >= MAX_IN_FLIGHT || this.queue.length === 0) return;
    this.inFlight++;
    const batch = this.take();
    for (const it of batch) it.detach();
    try {
      const out = await this.run(batch);
      let offset = 0;
      const width = batch.length ? out.length / batch.reduce((n, it) => n + it.rows, 0) : 0;
      for (const it of batch) {
        it.resolve(out.slice(offset * width, (offset + it.rows) * width));
        offset += it.rows;
      }
    } catch (e) {
      for (const it of batch) it.reject(e);
    } finally {
      this.inFlight--;
    }
    // Once nothing is in flight, whatever queued up meanwhile has waited long enough: run it now.
    if (this.inFlight === 0 && this.queue.length > 0) void this.flush();
    else this.schedule();
    this.settleIdle();
  }

  private async run(batch: readonly Item[]): Promise<Float32Array> {
    const rows = batch.reduce((n, it) => n + it.rows, 0);
    const { outputName, maxBatch } = this.options;
    const handedOver = performance.now();
    // Submitted feeds belong to the batcher now: runRows may move their buffers to a worker thread.
    const result =
      rows > maxBatch
        ? await runBatched(this.session, concatFeeds(batch.map((it) => it.feeds)), {
            batchSize: maxBatch,
            outputNames: [outputName],
          })
        : await this.session.runRows(
            batch.map((it) => it.feeds),
            [outputName],
          );
    const end = performance.now();
    const seconds = (end - Math.max(handedOver, this.lastEnd)) / 1000;
    this.lastEnd = end;
    const out = result[outputName];
    if (!out || !(out.data instanceof Float32Array) || out.shape[0] !== rows) {
      throw new GraftError(
        'RUNTIME_ERROR',
        `model output '${outputName}' is not a float32 [${rows}, …] tensor`,
      );
    }
    const chunks = Math.ceil(rows / maxBatch);
    for (let done = 0; done < rows; done += maxBatch) {
      this.options.onBatch?.(Math.min(maxBatch, rows - done), seconds / chunks);
    }
    return out.data;
  }

  private settleIdle(): void {
    if (this.inFlight > 0 || this.queue.length > 0) return;
    const waiters = this.idle;
    this.idle = [];
    for (const w of waiters) w();
  }
}
