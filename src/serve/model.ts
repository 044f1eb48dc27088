/** The model a server serves: manifest, one ONNX Runtime session, and what GET /info reports. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { GraftError } from '../errors.js';
import { MODEL_FILE, readManifest, type ModelManifest } from '../export/manifest.js';
import type { Preprocess } from '../models/spec.js';
import { decodeModel } from '../onnx/io.js';
import { Session } from '../runtime/session.js';

export interface ServedModel {
  readonly dir: string;
  /** Reported as `model` in every prediction response. */
  readonly id: string;
  readonly sha256: string;
  readonly manifest: ModelManifest;
  readonly session: Session;
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
  options: { threads?: number; modelId?: string } = {},
): Promise<ServedModel> {
  const manifest = await readManifest(dir);
  const path = join(dir, MODEL_FILE);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new GraftError('MODEL_NOT_FOUND', `missing ${MODEL_FILE} in '${dir}'`, { dir }, { cause: e });
  }
  const model = decodeModel(bytes, { baseDir: dir, label: `'${path}'` });
  const session = await Session.fromBytes(bytes, model, options.threads ? { threads: options.threads } : {});
  if (!session.outputNames.includes(manifest.output)) {
    await session.release();
    throw new GraftError(
      'CORRUPT_MODEL',
      `${MODEL_FILE} has no output '${manifest.output}' named in graft.json`,
      {
        dir,
      },
    );
  }
  return {
    dir,
    id: options.modelId ?? basename(resolve(dir)),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    manifest,
    session,
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
