/** The model a server serves: manifest, one ONNX Runtime session, and what GET /info reports. */
import { basename, resolve } from 'node:path';
import type { ModelManifest } from '../export/manifest.js';
import { openModelDir } from '../predict/model-dir.js';
import type { Preprocess } from '../models/spec.js';
import { BufferPool } from '../runtime/buffer-pool.js';
import { Session } from '../runtime/session.js';

export interface ServedModel {
  readonly dir: string;
  /** Reported as `model` in every prediction response. */
  readonly id: string;
  readonly sha256: string;
  readonly manifest: ModelManifest;
  readonly session: Session;
  /** Input tensors' buffers, taken per request and given back by the session after each batch. */
  readonly pool: BufferPool;
}

export interface ModelInfo {
  model: string;
  sha256: string;
  task: ModelManifest['task'];
  labels: string[];
  base: ModelManifest['base'];
  inputs: { name: string; dtype: string | null; shape: (number | string | null)[] | null }[];
  preprocess: Preprocess;
  output: { name: string; shape: (number | string | null)[] | null };
}

export async function loadServedModel(
  dir: string,
  options: { threads?: number; modelId?: string; int8?: boolean } = {},
): Promise<ServedModel> {
  // ONNX Runtime runs on a worker thread, so requests keep being parsed and decoded while a batch runs (the
  // next batch fills meanwhile); its idle threads block rather than spin, leaving the cores to that work.
  // Request tensors come from `pool` and return to it after their batch: fresh ones each request made V8
  // collect garbage every few dozen requests.
  const pool = new BufferPool();
  const { manifest, sha256, session } = await openModelDir(dir, {
    worker: true,
    spinWait: false,
    recycle: (buffers) => pool.give(buffers),
    ...(options.threads ? { threads: options.threads } : {}),
    int8: options.int8,
  });
  return {
    dir,
    id: options.modelId ?? basename(resolve(dir)),
    sha256,
    manifest,
    session,
    pool,
  };
}

export function modelInfo(m: ServedModel): ModelInfo {
  const out = m.session.outputs.find((o) => o.name === m.manifest.output);
  return {
    model: m.id,
    sha256: m.sha256,
    task: m.manifest.task,
    labels: m.manifest.labels,
    base: m.manifest.base,
    inputs: m.session.inputs.map((v) => ({ name: v.name, dtype: v.dtype ?? null, shape: v.shape ?? null })),
    preprocess: m.manifest.preprocess,
    output: { name: m.manifest.output, shape: out?.shape ?? null },
  };
}
