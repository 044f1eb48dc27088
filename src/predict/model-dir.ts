/** Opening a trained model directory: graft.json, model.onnx, and one ONNX Runtime session over it. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GraftError } from '../errors.js';
import { MODEL_FILE, readManifest, type ModelManifest } from '../export/manifest.js';
import { decodeModel } from '../onnx/io.js';
import { Session, type SessionOptions } from '../runtime/session.js';

export interface OpenModelDir {
  manifest: ModelManifest;
  /** The bytes of model.onnx (e.g. for hashing). */
  bytes: Uint8Array;
  session: Session;
}

export async function openModelDir(dir: string, options: SessionOptions = {}): Promise<OpenModelDir> {
  const manifest = await readManifest(dir);
  const path = join(dir, MODEL_FILE);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new GraftError('MODEL_NOT_FOUND', `missing ${MODEL_FILE} in '${dir}'`, { dir }, { cause: e });
  }
  const model = decodeModel(bytes, { baseDir: dir, label: `'${path}'` });
  const session = await Session.fromBytes(bytes, model, options);
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
  return { manifest, bytes, session };
}
