/** Reading and writing ONNX files: protobuf bytes, external data, opset checks, atomic writes. */
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { GraftError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { writeFileAtomic } from '../util/atomic.js';
import { SUPPORTED_OPSETS, type Model } from './ir.js';
import { modelFromProto, modelToProto, type ModelProtoLike } from './convert.js';
import { ModelProtoType } from './schema.js';
import { tensorToProto, toBytes, toNumber } from './tensor-proto.js';

export interface LoadModelOptions {
  /** Directory that external-data locations are relative to (defaults to the model file's directory). */
  baseDir?: string;
  /** Skip the default-domain opset range check (used by the conformance suite). */
  anyOpset?: boolean;
  /** Name used in error messages. */
  label?: string;
}

export function decodeModel(bytes: Uint8Array, options: LoadModelOptions = {}): Model {
  const label = options.label ?? 'model';
  if (bytes.byteLength === 0)
    throw new GraftError('CORRUPT_MODEL', `${label} is empty (0 bytes), not an ONNX model`);
  let proto: ModelProtoLike;
  try {
    proto = ModelProtoType.decode(bytes) as unknown as ModelProtoLike;
  } catch (e) {
    const kind = sniff(bytes);
    const what = kind ? `it looks like ${kind}` : 'the protobuf is truncated or corrupt';
    throw new GraftError('CORRUPT_MODEL', `${label} is not a valid ONNX model: ${what}`, {}, { cause: e });
  }
  if (!proto.graph || (proto.graph.node ?? []).length + (proto.graph.output ?? []).length === 0) {
    const kind = sniff(bytes);
    const what = kind ? `it looks like ${kind}` : 'it has no graph';
    throw new GraftError('CORRUPT_MODEL', `${label} is not an ONNX model: ${what}`);
  }
  // IR version 3 and later require opset_import; writers put it last, so a file cut short can lose exactly it.
  if (toNumber(proto.irVersion) >= 3 && (proto.opsetImport ?? []).length === 0) {
    throw new GraftError('CORRUPT_MODEL', `${label} declares no opset imports (is the file truncated?)`);
  }
  const model = modelFromProto(proto, options.baseDir);
  if (!options.anyOpset) checkOpset(model, label);
  return model;
}

/** A guess at what a non-ONNX file is, for error messages. */
function sniff(bytes: Uint8Array): string | undefined {
  const head = new TextDecoder().decode(bytes.subarray(0, 16)).trimStart();
  if (head.startsWith('{') || head.startsWith('[')) return 'JSON text (a TF.js/Keras model.json?)';
  if (bytes[0] === 0x89 && head.includes('PNG')) return 'a PNG image';
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'a JPEG image';
  if (head.startsWith('PK')) return 'a ZIP archive';
  return undefined;
}

export function checkOpset(model: Model, label = 'model'): void {
  const imp = model.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  const v = imp?.version ?? 1;
  if (v < SUPPORTED_OPSETS.min || v > SUPPORTED_OPSETS.max) {
    throw new GraftError(
      'CORRUPT_MODEL',
      `${label} uses ONNX opset ${v}; graft supports opsets ${SUPPORTED_OPSETS.min}–${SUPPORTED_OPSETS.max}`,
      { opset: v },
    );
  }
}

export async function loadModel(path: string, options: LoadModelOptions = {}): Promise<Model> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new GraftError('MODEL_NOT_FOUND', `cannot read ONNX model '${path}'`, { path }, { cause: e });
  }
  return decodeModel(bytes, { baseDir: dirname(path), label: `'${path}'`, ...options });
}

export interface SaveModelOptions {
  /** Initializers at least this many bytes go to an external data file (default: never). */
  externalDataThreshold?: number;
  /** External data file name, next to the model (default `<model file>.data`). */
  externalDataFile?: string;
}

export function encodeModel(model: Model): Uint8Array {
  return ModelProtoType.encode(modelToProto(model)).finish();
}

/** Writes a model atomically; large initializers optionally go to one external data file. */
export async function saveModel(model: Model, path: string, options: SaveModelOptions = {}): Promise<void> {
  const threshold = options.externalDataThreshold;
  if (threshold === undefined) {
    await writeFileAtomic(path, encodeModel(model));
    return;
  }
  const location = options.externalDataFile ?? `${basename(path)}.data`;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const encodeInit = (name: string, t: Tensor): Record<string, unknown> => {
    if (t.dtype === 'string') return tensorToProto(name, t);
    const bytes = toBytes(t);
    if (bytes.byteLength < threshold) return tensorToProto(name, t);
    const pad = (64 - (offset % 64)) % 64;
    if (pad) chunks.push(new Uint8Array(pad));
    offset += pad;
    chunks.push(bytes);
    const proto = {
      ...tensorToProto(name, t),
      rawData: undefined,
      dataLocation: 1,
      externalData: [
        { key: 'location', value: location },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(bytes.byteLength) },
      ],
    };
    offset += bytes.byteLength;
    return proto;
  };
  const bytes = ModelProtoType.encode(modelToProto(model, encodeInit)).finish();
  await writeFileAtomic(join(dirname(path), location), Buffer.concat(chunks));
  await writeFileAtomic(path, bytes);
}
