/**
 * Opening a trained model directory: graft.json, model.onnx, and one ONNX Runtime session over it. The two
 * files must belong together: model.onnx's sha256 (recorded in graft.json), the labels and output name in its
 * metadata, and its output's width must all agree with graft.json, or it is CORRUPT_MODEL.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GraftError } from '../errors.js';
import {
  INT8_MODEL_FILE,
  METADATA_LABELS,
  METADATA_OUTPUT,
  MODEL_FILE,
  readManifest,
  recoverModelDir,
  type ModelManifest,
} from '../export/manifest.js';
import type { Model } from '../onnx/ir.js';
import { decodeModel } from '../onnx/io.js';
import { Session, type SessionOptions } from '../runtime/session.js';

export interface OpenModelDir {
  manifest: ModelManifest;
  /** The bytes of model.onnx (e.g. for hashing). */
  bytes: Uint8Array;
  /** Their sha256, hex. */
  sha256: string;
  session: Session;
}

export interface ModelDirOptions extends SessionOptions {
  /** Run model.int8.onnx (written by `graft quantize`) instead of model.onnx. */
  int8?: boolean;
}

const corrupt = (dir: string, why: string): GraftError =>
  new GraftError(
    'CORRUPT_MODEL',
    `'${dir}': ${MODEL_FILE} does not belong with its graft.json (${why}); write the model directory again`,
    { dir },
  );

/** Checks what can be checked before a session exists: the file's hash and its metadata. */
function checkPair(dir: string, manifest: ModelManifest, model: Model, sha256: string, int8: boolean): void {
  const recorded = int8 ? manifest.int8?.sha256 : manifest.modelSha256;
  if (recorded && recorded !== sha256)
    throw corrupt(dir, `its sha256 is ${sha256.slice(0, 12)}…, graft.json records ${recorded.slice(0, 12)}…`);
  const labels = model.metadata[METADATA_LABELS];
  if (labels !== undefined && labels !== JSON.stringify(manifest.labels)) {
    let n = '?';
    try {
      n = String((JSON.parse(labels) as unknown[]).length);
    } catch {
      // n stays unknown
    }
    throw corrupt(
      dir,
      `it was exported with ${n} labels ${labels}, graft.json lists ${manifest.labels.length}`,
    );
  }
  const output = model.metadata[METADATA_OUTPUT];
  if (output !== undefined && output !== manifest.output)
    throw corrupt(dir, `its output is '${output}', graft.json names '${manifest.output}'`);
}

/** The output's class count from the session's declared shape, when it is a fixed number. */
function declaredWidth(session: Session, output: string): number | undefined {
  const shape = session.outputs.find((o) => o.name === output)?.shape;
  const last = shape?.[shape.length - 1];
  return typeof last === 'number' && last > 0 ? last : undefined;
}

export async function openModelDir(dir: string, options: ModelDirOptions = {}): Promise<OpenModelDir> {
  const { int8, ...sessionOptions } = options;
  // a write killed midway leaves the new directory complete beside the name, or the previous one's
  // checkpoints beside it: finish it (a no-op unless such siblings exist)
  await recoverModelDir(dir).catch(() => undefined);
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
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const model = decodeModel(bytes, { baseDir: dir, label: `'${path}'` });
  checkPair(dir, manifest, model, sha256, int8 === true);
  const session = await Session.fromBytes(bytes, model, sessionOptions);
  const fail = async (e: GraftError): Promise<never> => {
    await session.release();
    throw e;
  };
  if (!session.outputNames.includes(manifest.output))
    return fail(
      new GraftError('CORRUPT_MODEL', `${file} has no output '${manifest.output}' named in graft.json`, {
        dir,
      }),
    );
  const width = declaredWidth(session, manifest.output);
  if (width !== undefined && width !== manifest.labels.length)
    return fail(
      corrupt(dir, `it scores ${width} classes, graft.json lists ${manifest.labels.length} labels`),
    );
  return { manifest, bytes, sha256, session };
}

/** Throws CORRUPT_MODEL when a model's output holds other than `labels` scores per row. */
export function checkOutputWidth(dir: string, values: number, rows: number, labels: number): void {
  if (rows > 0 && values !== rows * labels)
    throw corrupt(dir, `it scores ${values / rows} classes, graft.json lists ${labels} labels`);
}
