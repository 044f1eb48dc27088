/** ONNX Runtime sessions created from graft's in-memory IR, with input validation. */
import { cpus } from 'node:os';
import * as ort from 'onnxruntime-node';
import { GraftError } from '../errors.js';
import type { Model, ValueInfo } from '../onnx/ir.js';
import { encodeModel } from '../onnx/io.js';
import { sizeOf, type Tensor } from '../tensor.js';
import { concatBatches } from './batching.js';
import { retainFreedMemory } from './heap.js';
import { runOrt } from './ort-tensor.js';
import { SessionThread, wholeBuffers } from './session-thread.js';

export type GraphOptimization = 'disabled' | 'basic' | 'extended' | 'all';

export interface SessionOptions {
  /** Intra-op threads (default: number of CPU cores). */
  threads?: number;
  /** Inter-op threads (default 1). */
  interOpThreads?: number;
  optimization?: GraphOptimization;
  /** Execution providers in order of preference (default ['cpu']). */
  executionProviders?: string[];
  /** Validate names, dtypes and static dims before every run (default true). */
  validate?: boolean;
  /**
   * Whether idle intra-op threads spin (ONNX Runtime's default) or block between parallel sections. Blocking
   * (false) is PyTorch's OMP_WAIT_POLICY=PASSIVE: much faster when the cores are shared with other work, and
   * for graphs of many small ops. 'within-runs' spins between a run's parallel sections and stops at its end,
   * for callers that do their other work between runs. Default: ONNX Runtime's (spin).
   */
  spinWait?: boolean | 'within-runs';
  /**
   * ONNX Runtime's memory pattern (default true): after the first run it plans one block for all of a run's
   * intermediate values and allocates it from the second run on. The block comes on top of what the arena kept
   * from the first run, so for a large graph (a training step) it nearly doubles the peak memory; false leaves
   * every intermediate value to the arena, which still reuses its blocks from run to run.
   */
  memoryPattern?: boolean;
  /** ONNX Runtime's CPU memory arena (default true); false allocates every intermediate value afresh. */
  memoryArena?: boolean;
  /** ONNX Runtime graph transformers to skip, by name (its optimization.disable_specified_optimizers). */
  disabledOptimizers?: readonly string[];
  /**
   * Run ONNX Runtime on a worker thread (default false). Its `run` otherwise blocks this thread's event loop
   * for the whole forward pass; on a worker, the caller keeps serving I/O meanwhile (inputs are copied over).
   */
  worker?: boolean;
  /**
   * Receives the input buffers that `runRows` callers gave up, once ONNX Runtime is done with them, so a
   * BufferPool can hand them out again instead of the garbage collector reclaiming them.
   */
  recycle?: (buffers: ArrayBuffer[]) => void;
}

/** ONNX Runtime's session config entries for SessionOptions.spinWait and disabledOptimizers. */
function configEntries(options: SessionOptions): Pick<ort.InferenceSession.SessionOptions, 'extra'> {
  const extra: Record<string, Record<string, unknown>> = {};
  if (options.spinWait !== undefined) {
    const allow = options.spinWait === false ? '0' : '1';
    const stopAfterRun = options.spinWait === 'within-runs' ? { force_spinning_stop: '1' } : {};
    extra['session'] = { intra_op: { allow_spinning: allow }, ...stopAfterRun };
  }
  if (options.disabledOptimizers?.length)
    extra['optimization'] = { disable_specified_optimizers: options.disabledOptimizers.join(';') };
  return Object.keys(extra).length ? { extra } : {};
}

/** ONNX Runtime's session options for graft's. */
export function ortSessionOptions(options: SessionOptions): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: options.threads ?? cpus().length,
    interOpNumThreads: options.interOpThreads ?? 1,
    graphOptimizationLevel: options.optimization ?? 'all',
    executionProviders: options.executionProviders ?? ['cpu'],
    enableMemPattern: options.memoryPattern ?? true,
    enableCpuMemArena: options.memoryArena ?? true,
    ...configEntries(options),
  };
}

/** What runs the model: an InferenceSession on this thread, or one on a worker thread. */
interface Backend {
  run(feeds: Feeds, outputNames?: readonly string[]): Promise<Record<string, Tensor>>;
  /** Runs the row-wise concatenation of `parts` (whose buffers the caller gives up). */
  runRows(parts: readonly Feeds[], outputNames?: readonly string[]): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}

function mainThreadBackend(
  session: ort.InferenceSession,
  recycle: ((buffers: ArrayBuffer[]) => void) | undefined,
): Backend {
  const run = (feeds: Feeds, outputNames?: readonly string[]): Promise<Record<string, Tensor>> =>
    runOrt(session, feeds, outputNames);
  return {
    run,
    runRows: async (parts, outputNames) => {
      const out = await run(concatFeeds(parts), outputNames);
      recycle?.(wholeBuffers(parts));
      return out;
    },
    release: () => session.release(),
  };
}

/** One feed per input name: the parts' tensors stacked along dim 0. */
export function concatFeeds(parts: readonly Feeds[]): Feeds {
  const feeds: Feeds = {};
  for (const name of Object.keys(parts[0] ?? {})) {
    const tensors = parts.map((p) => p[name]!);
    feeds[name] = tensors.length === 1 ? tensors[0]! : concatBatches(tensors);
  }
  return feeds;
}

export type Feeds = Record<string, Tensor>;

export class Session {
  private constructor(
    private readonly backend: Backend,
    readonly inputs: readonly ValueInfo[],
    readonly outputs: readonly ValueInfo[],
    private readonly validate: boolean,
  ) {}

  /** A session for an in-memory model. */
  static async create(model: Model, options: SessionOptions = {}): Promise<Session> {
    return Session.fromBytes(encodeModel(model), model, options);
  }

  /** A session for already-serialised bytes of `model` (skips re-encoding a model read from disk). */
  static async fromBytes(bytes: Uint8Array, model: Model, options: SessionOptions = {}): Promise<Session> {
    const ortOptions = ortSessionOptions(options);
    retainFreedMemory();
    let backend: Backend;
    try {
      backend = options.worker
        ? await SessionThread.start({ bytes, options: ortOptions }, options.recycle)
        : mainThreadBackend(await ort.InferenceSession.create(bytes, ortOptions), options.recycle);
    } catch (e) {
      throw runtimeError('ONNX Runtime rejected the model', e);
    }
    const initializers = model.graph.initializers;
    const inputs = model.graph.inputs.filter((v) => !initializers.has(v.name));
    return new Session(backend, inputs, model.graph.outputs, options.validate ?? true);
  }

  get inputNames(): string[] {
    return this.inputs.map((v) => v.name);
  }

  get outputNames(): string[] {
    return this.outputs.map((v) => v.name);
  }

  async run(feeds: Feeds, outputNames?: readonly string[]): Promise<Record<string, Tensor>> {
    if (this.validate) this.check(feeds);
    try {
      return await this.backend.run(feeds, outputNames);
    } catch (e) {
      throw runtimeError('ONNX Runtime failed', e);
    }
  }

  /**
   * Runs several callers' feeds as one batch: their row-wise concatenation (same inputs, same per-row shapes).
   * The caller gives up the parts' buffers: a worker session moves them to its thread rather than copying and
   * stacks them into a buffer it reuses.
   */
  async runRows(parts: readonly Feeds[], outputNames?: readonly string[]): Promise<Record<string, Tensor>> {
    if (parts.length === 0) throw new GraftError('BAD_INPUT', 'no feeds to run');
    if (this.validate) parts.forEach((p) => this.check(p));
    try {
      return await this.backend.runRows(parts, outputNames);
    } catch (e) {
      throw runtimeError('ONNX Runtime failed', e);
    }
  }

  async release(): Promise<void> {
    await this.backend.release();
  }

  private check(feeds: Feeds): void {
    for (const name of Object.keys(feeds)) {
      if (!this.inputs.some((v) => v.name === name)) {
        throw new GraftError(
          'BAD_INPUT',
          `unknown input '${name}'; the model's inputs are: ${this.inputNames.join(', ')}`,
          {
            input: name,
          },
        );
      }
    }
    for (const info of this.inputs) {
      const t = feeds[info.name];
      if (!t) throw new GraftError('BAD_INPUT', `missing input '${info.name}'`, { input: info.name });
      if (info.dtype && t.dtype !== info.dtype) {
        throw new GraftError('BAD_INPUT', `input '${info.name}' must be ${info.dtype}, got ${t.dtype}`, {
          input: info.name,
        });
      }
      if (sizeOf(t.shape) !== t.data.length) {
        throw new GraftError(
          'SHAPE_MISMATCH',
          `input '${info.name}': shape [${t.shape}] needs ${sizeOf(t.shape)} values, got ${t.data.length}`,
        );
      }
      if (info.shape) checkShape(info, t.shape);
    }
  }
}

function checkShape(info: ValueInfo, shape: readonly number[]): void {
  const want = info.shape!;
  const ok = want.length === shape.length && want.every((d, i) => typeof d !== 'number' || d === shape[i]);
  if (!ok) {
    const fmt = want.map((d) => (d === null ? '?' : String(d))).join(', ');
    throw new GraftError(
      'SHAPE_MISMATCH',
      `input '${info.name}' must have shape [${fmt}], got [${shape.join(', ')}]`,
      {
        input: info.name,
        expected: want,
        actual: [...shape],
      },
    );
  }
}

/** ONNX Runtime's error as a RUNTIME_ERROR; graft's own errors (e.g. from a `recycle` callback) pass unchanged. */
function runtimeError(what: string, e: unknown): GraftError {
  if (e instanceof GraftError) return e;
  return new GraftError('RUNTIME_ERROR', `${what}: ${firstLine(e)}`, {}, { cause: e });
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0]!.slice(0, 300);
}
