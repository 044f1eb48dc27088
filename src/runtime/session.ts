/** ONNX Runtime sessions created from graft's in-memory IR, with input validation. */
import { cpus } from 'node:os';
import * as ort from 'onnxruntime-node';
import { GraftError } from '../errors.js';
import type { Model, ValueInfo } from '../onnx/ir.js';
import { encodeModel } from '../onnx/io.js';
import { sizeOf, type Tensor } from '../tensor.js';
import { fromOrt, toOrt } from './ort-tensor.js';

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
   * for graphs of many small ops. Default: ONNX Runtime's (spin).
   */
  spinWait?: boolean;
}

export type Feeds = Record<string, Tensor>;

export class Session {
  private constructor(
    private readonly ort: ort.InferenceSession,
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
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: options.threads ?? cpus().length,
        interOpNumThreads: options.interOpThreads ?? 1,
        graphOptimizationLevel: options.optimization ?? 'all',
        executionProviders: options.executionProviders ?? ['cpu'],
        ...(options.spinWait === undefined
          ? {}
          : { extra: { session: { intra_op: { allow_spinning: options.spinWait ? '1' : '0' } } } }),
      });
    } catch (e) {
      throw new GraftError(
        'RUNTIME_ERROR',
        `ONNX Runtime rejected the model: ${firstLine(e)}`,
        {},
        { cause: e },
      );
    }
    const initializers = model.graph.initializers;
    const inputs = model.graph.inputs.filter((v) => !initializers.has(v.name));
    return new Session(session, inputs, model.graph.outputs, options.validate ?? true);
  }

  get inputNames(): string[] {
    return this.inputs.map((v) => v.name);
  }

  get outputNames(): string[] {
    return this.outputs.map((v) => v.name);
  }

  async run(feeds: Feeds, outputNames?: readonly string[]): Promise<Record<string, Tensor>> {
    if (this.validate) this.check(feeds);
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, t] of Object.entries(feeds)) ortFeeds[k] = toOrt(t);
    let result: ort.InferenceSession.ReturnType;
    try {
      result = outputNames ? await this.ort.run(ortFeeds, [...outputNames]) : await this.ort.run(ortFeeds);
    } catch (e) {
      throw new GraftError('RUNTIME_ERROR', `ONNX Runtime failed: ${firstLine(e)}`, {}, { cause: e });
    }
    const out: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(result)) out[k] = fromOrt(t);
    return out;
  }

  async release(): Promise<void> {
    await this.ort.release();
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

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0]!.slice(0, 300);
}
