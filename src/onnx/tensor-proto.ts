/** TensorProto <-> graft Tensor, including raw_data, typed fields and external data. */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import Long from 'long';
import { GraftError } from '../errors.js';
import { allocate, sizeOf, type DType, type Tensor, type TensorData } from '../tensor.js';

const CODE_TO_DTYPE: Record<number, DType> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
};

const DTYPE_TO_CODE = Object.fromEntries(
  Object.entries(CODE_TO_DTYPE).map(([k, v]) => [v, Number(k)]),
) as Record<DType, number>;

const BYTES_PER_ELEMENT: Record<Exclude<DType, 'string'>, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int8: 1,
  int16: 2,
  int32: 4,
  int64: 8,
  uint8: 1,
  uint16: 2,
  uint32: 4,
  uint64: 8,
  bool: 1,
};

export function dtypeFromCode(code: number): DType | undefined {
  return CODE_TO_DTYPE[code];
}

export function codeFromDtype(dtype: DType): number {
  return DTYPE_TO_CODE[dtype];
}

export function bytesPerElement(dtype: Exclude<DType, 'string'>): number {
  return BYTES_PER_ELEMENT[dtype];
}

export type Int64Like = number | Long;

export function toNumber(v: Int64Like | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/** The fields of a decoded TensorProto that graft reads. */
export interface TensorProtoLike {
  name?: string;
  dims?: Int64Like[];
  dataType?: number;
  rawData?: Uint8Array;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: Int64Like[];
  doubleData?: number[];
  uint64Data?: Int64Like[];
  stringData?: Uint8Array[];
  dataLocation?: number;
  externalData?: { key: string; value: string }[];
}

/** Typed array view over little-endian bytes, copied so that alignment never matters. */
export function fromBytes(dtype: Exclude<DType, 'string'>, bytes: Uint8Array, count: number): TensorData {
  const out = allocate(dtype, count) as Exclude<TensorData, string[]>;
  const need = count * BYTES_PER_ELEMENT[dtype];
  if (bytes.byteLength !== need) {
    throw new GraftError('CORRUPT_MODEL', `tensor data has ${bytes.byteLength} bytes, expected ${need}`);
  }
  new Uint8Array(out.buffer, out.byteOffset, need).set(bytes);
  return out;
}

export function toBytes(t: Tensor): Uint8Array {
  if (t.dtype === 'string') throw new GraftError('BAD_INPUT', 'string tensors have no byte form');
  const d = t.data as Exclude<TensorData, string[]>;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

function readExternal(p: TensorProtoLike, baseDir: string | undefined, bytes: number): Uint8Array {
  const kv = Object.fromEntries((p.externalData ?? []).map((e) => [e.key, e.value]));
  const location = kv['location'];
  if (!location || baseDir === undefined) {
    throw new GraftError(
      'CORRUPT_MODEL',
      `tensor '${p.name}' uses external data but no location/base directory`,
    );
  }
  const rel = normalize(location);
  if (isAbsolute(rel) || rel.startsWith('..')) {
    throw new GraftError('CORRUPT_MODEL', `external data location '${location}' escapes the model directory`);
  }
  const offset = Number(kv['offset'] ?? 0);
  const length = kv['length'] !== undefined ? Number(kv['length']) : bytes;
  let file: Buffer;
  try {
    file = readFileSync(join(baseDir, rel));
  } catch (e) {
    throw new GraftError(
      'IO_ERROR',
      `cannot read external data '${location}' of tensor '${p.name}'`,
      {},
      { cause: e },
    );
  }
  if (offset + length > file.byteLength) {
    throw new GraftError(
      'CORRUPT_MODEL',
      `external data '${location}' is shorter than tensor '${p.name}' needs`,
    );
  }
  return file.subarray(offset, offset + length);
}

/** Decodes a TensorProto; returns undefined for element types graft does not represent (kept opaque). */
export function tensorFromProto(p: TensorProtoLike, baseDir?: string): Tensor | undefined {
  const dtype = dtypeFromCode(p.dataType ?? 0);
  if (!dtype) return undefined;
  const shape = (p.dims ?? []).map(toNumber);
  const count = sizeOf(shape);
  if (dtype === 'string') {
    const dec = new TextDecoder();
    return { dtype, shape, data: (p.stringData ?? []).map((b) => dec.decode(b)) };
  }
  if (p.dataLocation === 1) {
    return {
      dtype,
      shape,
      data: fromBytes(dtype, readExternal(p, baseDir, count * BYTES_PER_ELEMENT[dtype]), count),
    };
  }
  if (p.rawData && p.rawData.byteLength > 0)
    return { dtype, shape, data: fromBytes(dtype, p.rawData, count) };
  const data = allocate(dtype, count) as Exclude<TensorData, string[]>;
  const fill = (src: ArrayLike<Int64Like> | undefined, big: boolean): void => {
    if (!src) return;
    const n = Math.min(src.length, count);
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      (data as unknown as { [i: number]: number | bigint })[i] = big
        ? BigInt(typeof v === 'number' ? v : v.toString())
        : toNumber(v);
    }
  };
  switch (dtype) {
    case 'float32':
      fill(p.floatData, false);
      break;
    case 'float64':
      fill(p.doubleData, false);
      break;
    case 'int64':
      fill(p.int64Data, true);
      break;
    case 'uint64':
      fill(p.uint64Data, true);
      break;
    case 'uint32':
      fill(p.uint64Data, false);
      break;
    default:
      fill(p.int32Data, false);
  }
  return { dtype, shape, data };
}

/** Encodes a tensor as a TensorProto plain object (raw_data for every numeric type). */
export function tensorToProto(name: string, t: Tensor): Record<string, unknown> {
  const base = { name, dims: [...t.shape], dataType: codeFromDtype(t.dtype) };
  if (t.dtype === 'string') {
    const enc = new TextEncoder();
    return { ...base, stringData: (t.data as string[]).map((s) => enc.encode(s)) };
  }
  return { ...base, rawData: toBytes(t) };
}
