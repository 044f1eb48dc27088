/**
 * Running an ONNX Runtime session on a worker thread (SessionOptions.worker). onnxruntime-node's `run` blocks
 * the calling thread's event loop for the whole forward pass; on a worker it does not, which matters where
 * the main thread has other work meanwhile (a server's HTTP parsing and request decoding). Tensors are posted,
 * input and output buffers transferred where they are whole ArrayBuffers (copied otherwise).
 */
import { Worker } from 'node:worker_threads';
import type * as ort from 'onnxruntime-node';
import type { Tensor } from '../tensor.js';

export interface WorkerSetup {
  bytes: Uint8Array;
  options: ort.InferenceSession.SessionOptions;
  /** Send each run's input buffers back with its result (for SessionOptions.recycle). */
  returnInputs: boolean;
}

export type WorkerRequest =
  | {
      kind: 'run';
      id: number;
      parts: Record<string, Tensor>[];
      outputs: string[] | undefined;
      /** The caller gave the parts' buffers up (runRows): they may come back for recycling. */
      moved: boolean;
    }
  | { kind: 'release' };

export type WorkerReply =
  | { kind: 'ready' }
  | { kind: 'failed'; message: string }
  | { kind: 'result'; id: number; out: Record<string, Tensor>; inputs: ArrayBuffer[] }
  | { kind: 'error'; id: number; message: string }
  | { kind: 'released' };

/** The distinct ArrayBuffers that the tensors' data fill entirely (those can be transferred). */
export function wholeBuffers(tensors: readonly Record<string, Tensor>[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const t of tensors.flatMap((r) => Object.values(r))) {
    if (Array.isArray(t.data)) continue; // strings are cloned
    const b = t.data.buffer;
    const whole = t.data.byteOffset === 0 && t.data.byteLength === b.byteLength;
    if (whole && b instanceof ArrayBuffer && !out.includes(b)) out.push(b);
  }
  return out;
}

interface Pending {
  resolve: (out: Record<string, Tensor>) => void;
  reject: (e: Error) => void;
}

/**
 * The worker: compiled JavaScript beside this file (dist), or, when graft runs from its TypeScript sources
 * (tests, benches; tsx), the .ts entry loaded after registering tsx in the worker, which does not inherit it.
 */
function spawnWorker(setup: WorkerSetup): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./session-worker.js', import.meta.url), { workerData: setup });
  const entry = JSON.stringify(new URL('./session-worker.ts', import.meta.url).href);
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${entry}); });`;
  return new Worker(boot, { eval: true, workerData: setup });
}

export class SessionThread {
  private next = 0;
  private readonly pending = new Map<number, Pending>();
  private released: Promise<void> | undefined;
  /** Set when the worker has gone (crashed or released): later runs fail at once instead of waiting. */
  private gone: Error | undefined;

  private constructor(
    private readonly worker: Worker,
    recycle: ((buffers: ArrayBuffer[]) => void) | undefined,
  ) {
    worker.on('message', (reply: WorkerReply) => {
      if (reply.kind !== 'result' && reply.kind !== 'error') return;
      const p = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.kind === 'error') return p?.reject(new Error(reply.message));
      if (reply.inputs.length > 0) recycle?.(reply.inputs);
      p?.resolve(reply.out);
    });
    worker.on('error', (e) => this.failAll((this.gone = e)));
    worker.on('exit', () => this.failAll((this.gone ??= new Error('ONNX Runtime worker thread exited'))));
  }

  /**
   * Starts a worker and creates the session there; rejects with ONNX Runtime's message if it cannot.
   * `recycle` receives every run's input buffers back once the worker is done with them.
   */
  static async start(
    setup: Omit<WorkerSetup, 'returnInputs'>,
    recycle?: (buffers: ArrayBuffer[]) => void,
  ): Promise<SessionThread> {
    const worker = spawnWorker({ ...setup, returnInputs: recycle !== undefined });
    const first = await new Promise<WorkerReply>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    if (first.kind !== 'ready') {
      await worker.terminate();
      throw new Error(first.kind === 'failed' ? first.message : `unexpected reply '${first.kind}'`);
    }
    return new SessionThread(worker, recycle);
  }

  /** Runs `feeds`, which are copied to the worker (the caller keeps its buffers). */
  run(feeds: Record<string, Tensor>, outputs?: readonly string[]): Promise<Record<string, Tensor>> {
    return this.post([feeds], outputs, false);
  }

  /** Runs the parts stacked along dim 0; their whole buffers move to the worker (detached here). */
  runRows(
    parts: readonly Record<string, Tensor>[],
    outputs?: readonly string[],
  ): Promise<Record<string, Tensor>> {
    return this.post(parts, outputs, true);
  }

  private post(
    parts: readonly Record<string, Tensor>[],
    outputs: readonly string[] | undefined,
    move: boolean,
  ): Promise<Record<string, Tensor>> {
    if (this.released) return Promise.reject(new Error('session released'));
    if (this.gone) return Promise.reject(this.gone);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const request: WorkerRequest = {
        kind: 'run',
        id,
        parts: [...parts],
        outputs: outputs ? [...outputs] : undefined,
        moved: move,
      };
      this.worker.postMessage(request, move ? wholeBuffers(parts) : []);
    });
  }

  release(): Promise<void> {
    this.released ??= new Promise<void>((resolve) => {
      this.worker.once('exit', () => resolve());
      this.worker.postMessage({ kind: 'release' } satisfies WorkerRequest);
    });
    return this.released;
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
