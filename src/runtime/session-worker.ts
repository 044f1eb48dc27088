/**
 * The worker side of a threaded Session (session-thread.ts): owns one onnxruntime-node InferenceSession and
 * runs it off the main thread, so ONNX Runtime's blocking `run` leaves the main event loop free (a server
 * keeps parsing and decoding requests while a batch runs).
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { allocate, type Tensor } from '../tensor.js';
import { concatBatches, type NumericData } from './batching.js';
import { runOrt } from './ort-tensor.js';
import { wholeBuffers, type WorkerReply, type WorkerRequest, type WorkerSetup } from './session-thread.js';

const port = parentPort!;
const setup = workerData as WorkerSetup;

/** Per input and dtype, an array reused to stack parts into (grown when a batch needs more). */
const stacks = new Map<string, NumericData>();

function stack(name: string, parts: readonly Tensor[]): Tensor {
  if (parts.length === 1) return parts[0]!;
  return concatBatches(parts, (dtype, length) => {
    const key = `${name}:${dtype}`;
    let buffer = stacks.get(key);
    if (!buffer || buffer.length < length) stacks.set(key, (buffer = allocate(dtype, length) as NumericData));
    return buffer.subarray(0, length) as NumericData;
  });
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
    const feeds: Record<string, Tensor> = {};
    for (const k of Object.keys(req.parts[0]!))
      feeds[k] = stack(
        k,
        req.parts.map((p) => p[k]!),
      );
    const out = await runOrt(session, feeds, req.outputs);
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
