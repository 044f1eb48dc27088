/**
 * Runs shard jobs of any kind, keeping the last model loaded: a worker that gets shard after shard of the same
 * run loads its backbone or trained model once. Used in the worker's processor thread and by local runs.
 */
import { EXIT_CODES, GraftError, isGraftError, type GraftErrorCode } from '../errors.js';
import { ExtractEngine, type EngineOptions } from './extract-shard.js';
import type { ShardJob, ShardResult } from './jobs.js';
import { PredictEngine } from './predict-shard.js';

export class ShardRunner {
  private engine: ExtractEngine | PredictEngine | undefined;

  constructor(private readonly options: EngineOptions = {}) {}

  async run(job: ShardJob): Promise<ShardResult> {
    if (job.kind === 'extract') {
      const engine =
        this.engine instanceof ExtractEngine && this.engine.matches(job)
          ? this.engine
          : await this.swap(() => ExtractEngine.open(job, this.options));
      return engine.run(job, this.options);
    }
    const engine =
      this.engine instanceof PredictEngine && this.engine.matches(job)
        ? this.engine
        : await this.swap(() => PredictEngine.open(job.modelDir, this.options));
    return engine.run(job);
  }

  private async swap<E extends ExtractEngine | PredictEngine>(open: () => Promise<E>): Promise<E> {
    await this.release();
    const engine = await open();
    this.engine = engine;
    return engine;
  }

  async release(): Promise<void> {
    const engine = this.engine;
    this.engine = undefined;
    await engine?.release();
  }
}

/**
 * A failure as it is stored on the job: "[CODE] message". Bad input and refused options fail the same way on
 * every attempt, so they are marked unrecoverable (no retries); anything else is retried with back-off.
 */
export function jobFailure(e: unknown): Error {
  const code = isGraftError(e) ? e.code : 'RUNTIME_ERROR';
  const message = e instanceof Error ? e.message : String(e);
  const err = new Error(`[${code}] ${message}`);
  if (isGraftError(e, 'BAD_INPUT') || isGraftError(e, 'BAD_OPTION') || isGraftError(e, 'MODEL_NOT_FOUND'))
    Object.defineProperty(err, 'name', { value: 'UnrecoverableError', enumerable: true });
  return err;
}

/** Reads a job failure back: its GraftError code (RUNTIME_ERROR when it has none) and message. */
export function parseFailure(reason: string): GraftError {
  const m = /^\[([A-Z_]+)\] ([\s\S]*)$/.exec(reason);
  const code = m?.[1];
  if (!m || !code || !Object.hasOwn(EXIT_CODES, code)) return new GraftError('RUNTIME_ERROR', reason);
  return new GraftError(code as GraftErrorCode, m[2]!);
}
