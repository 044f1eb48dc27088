/**
 * The worker side of a threaded Session (session-thread.ts): owns one onnxruntime-node InferenceSession and
 * runs it off the main thread, so ONNX Runtime's blocking `run` leaves the main event loop free (a server
 * keeps parsing and decoding requests while a batch runs).
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { allocate, type Tensor, type TensorData } from '../tensor.js';
import { concatBatches } from './batching.js';
import { fromOrt, toOrt } from './ort-tensor.js';
import { wholeBuffers, type WorkerReply, type WorkerRequest, type WorkerSetup } from './session-thread.js';

const port = parentPort!;
const setup = workerData as WorkerSetup;

/** Per input, a buffer reused to stack parts into (grown when a batch needs more). */
const stacks = new Map<string, Exclude<TensorData, string[]>>();

function stack(name: string, parts: readonly Tensor[]): Tensor {
  const first = parts[0]!;
  if (parts.length === 1 || first.dtype === 'string')
    return parts.length === 1 ? first : concatBatches(parts);
  const length = parts.reduce((n, p) => n + p.data.length, 0);
  let buffer = stacks.get(name);
  if (!buffer || buffer.length < length || buffer.constructor !== first.data.constructor) {
    buffer = allocate(first.dtype, length) as Exclude<TensorData, string[]>;
    stacks.set(name, buffer);
  }
  const data = buffer.subarray(0, length) as Exclude<TensorData, string[]>;
  let offset = 0;
  for (const p of parts) {
    (data as Float32Array).set(p.data as Float32Array, offset);
    offset += p.data.length;
  }
  const rows = parts.reduce((n, p) => n + p.shape[0]!, 0);
  return { dtype: first.dtype, shape: [rows, ...first.shape.slice(1)], data };
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

let session: ort.InferenceSession;
try {
  session = await ort.InferenceSession.create(setup.bytes, setup.options);
  port.postMessage({ kind: 'ready' } satisfies WorkerReply);
} catch (e) {
  port.postMessage({ kind: 'failed', message: message(e) } satisfies WorkerReply);
  port.close();
}

async function handle(req: WorkerRequest): Promise<void> {
  if (req.kind === 'release') {
    await session.release();
    port.postMessage({ kind: 'released' } satisfies WorkerReply);
    port.close();
    return;
  }
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const k of Object.keys(req.parts[0]!))
      feeds[k] = toOrt(
        stack(
          k,
          req.parts.map((p) => p[k]!),
        ),
      );
    const result = req.outputs ? await session.run(feeds, req.outputs) : await session.run(feeds);
    const out: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(result)) out[k] = fromOrt(t);
    const inputs = setup.returnInputs && req.moved ? wholeBuffers(req.parts) : [];
    port.postMessage({ kind: 'result', id: req.id, out, inputs } satisfies WorkerReply, [
      ...wholeBuffers([out]),
      ...inputs,
    ]);
  } catch (e) {
    port.postMessage({ kind: 'error', id: req.id, message: message(e) } satisfies WorkerReply);
  }
}

// One request at a time, in arrival order: a run's stacked input lives in a buffer the next request reuses, and
// a caller may hand over its next batch while this one runs (it then starts the moment this one ends).
let pending = Promise.resolve();
port.on('message', (req: WorkerRequest) => {
  pending = pending.then(() => handle(req)).catch(() => undefined);
});
