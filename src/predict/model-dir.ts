/** Opening a trained model directory: graft.json, model.onnx, and one ONNX Runtime session over it. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GraftError } from '../errors.js';
import { INT8_MODEL_FILE, MODEL_FILE, readManifest, type ModelManifest } from '../export/manifest.js';
import { decodeModel } from '../onnx/io.js';
import { Session, type SessionOptions } from '../runtime/session.js';

export interface OpenModelDir {
  manifest: ModelManifest;
  /** The bytes of model.onnx (e.g. for hashing). */
  bytes: Uint8Array;
  session: Session;
}

export interface ModelDirOptions extends SessionOptions {
  /** Run model.int8.onnx (written by `graft quantize`) instead of model.onnx. */
  int8?: boolean;
}

export async function openModelDir(dir: string, options: ModelDirOptions = {}): Promise<OpenModelDir> {
  const { int8, ...sessionOptions } = options;
  const manifest = await readManifest(dir);
  if (int8 && !manifest.int8)
    throw new GraftError(
      'BAD_OPTION',
      `'${dir}' has no int8 model: run \`graft quantize ${dir}\` first, or drop --int8`,
      { dir },
    );
  const file = int8 ? (manifest.int8?.file ?? INT8_MODEL_FILE) : MODEL_FILE;
  const path = join(dir, file);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new GraftError('MODEL_NOT_FOUND', `missing ${file} in '${dir}'`, { dir }, { cause: e });
  }
  const model = decodeModel(bytes, { baseDir: dir, label: `'${path}'` });
  const session = await Session.fromBytes(bytes, model, sessionOptions);
  if (!session.outputNames.includes(manifest.output)) {
    await session.release();
    throw new GraftError('CORRUPT_MODEL', `${file} has no output '${manifest.output}' named in graft.json`, {
      dir,
    });
  }
  return { manifest, bytes, session };
}
