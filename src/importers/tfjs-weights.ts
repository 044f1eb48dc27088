/** TF.js weight manifests and shards → named float32/int32 tensors (uint8/uint16/float16 quantization). */
import { GraftError } from '../errors.js';
import type { Tensor } from '../tensor.js';

export interface WeightQuantization {
  readonly dtype: 'uint8' | 'uint16' | 'float16';
  readonly min?: number;
  readonly scale?: number;
  readonly original_dtype?: string;
}

export interface WeightEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly quantization?: WeightQuantization;
}

export interface WeightGroup {
  readonly paths: readonly string[];
  readonly weights: readonly WeightEntry[];
}

export type WeightsManifest = readonly WeightGroup[];

/** Shard bytes by manifest path (as written in `paths`). */
export type ShardMap = ReadonlyMap<string, Uint8Array>;

const BYTES: Readonly<Record<string, number>> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function storedBytes(w: WeightEntry): number {
  const stored = w.quantization?.dtype ?? w.dtype;
  const size = BYTES[stored];
  if (size === undefined) {
    throw new GraftError('UNSUPPORTED_OP', `weight '${w.name}' has unsupported dtype '${stored}'`, {
      weight: w.name,
      dtype: stored,
    });
  }
  return numel(w.shape) * size;
}

/** IEEE 754 half → float. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

function decodeOne(w: WeightEntry, bytes: Uint8Array): Tensor {
  const n = numel(w.shape);
  const buf = bytes.slice().buffer;
  const q = w.quantization;
  const toInt = w.dtype === 'int32';
  let values: Float32Array | Int32Array;
  if (q) {
    const raw =
      q.dtype === 'uint8' ? new Uint8Array(buf) : new Uint16Array(buf, 0, n); /* uint16 or float16 bits */
    values = toInt ? new Int32Array(n) : new Float32Array(n);
    if (q.dtype === 'float16') {
      for (let i = 0; i < n; i++) values[i] = halfToFloat(raw[i]!);
    } else {
      const min = q.min ?? 0;
      const scale = q.scale ?? 1;
      for (let i = 0; i < n; i++) {
        const v = min + scale * raw[i]!;
        values[i] = toInt ? Math.round(v) : v;
      }
    }
  } else if (w.dtype === 'float32') {
    values = new Float32Array(buf, 0, n);
  } else if (w.dtype === 'int32') {
    values = new Int32Array(buf, 0, n);
  } else if (w.dtype === 'bool' || w.dtype === 'uint8') {
    values = Float32Array.from(bytes);
  } else {
    throw new GraftError('UNSUPPORTED_OP', `weight '${w.name}' has unsupported dtype '${w.dtype}'`, {
      weight: w.name,
    });
  }
  return values instanceof Int32Array
    ? { dtype: 'int32', shape: [...w.shape], data: values }
    : { dtype: 'float32', shape: [...w.shape], data: values };
}

/**
 * Decodes every weight of a manifest. Each group's shards are concatenated in `paths` order and must hold
 * exactly the bytes the manifest describes, else CORRUPT_MODEL.
 */
export function decodeWeights(manifest: WeightsManifest, shards: ShardMap): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const group of manifest) {
    const parts = group.paths.map((p) => {
      const bytes = shards.get(p);
      if (!bytes) throw new GraftError('CORRUPT_MODEL', `missing weight shard '${p}'`, { shard: p });
      return bytes;
    });
    const total = parts.reduce((a, b) => a + b.byteLength, 0);
    const expected = group.weights.reduce((a, w) => a + storedBytes(w), 0);
    if (total !== expected) {
      throw new GraftError(
        'CORRUPT_MODEL',
        `weight shards [${group.paths.join(', ')}] hold ${total} bytes but the manifest describes ${expected}`,
        { shards: [...group.paths], bytes: total, expected },
      );
    }
    const all = parts.length === 1 ? parts[0]! : concat(parts, total);
    let offset = 0;
    for (const w of group.weights) {
      const len = storedBytes(w);
      out.set(w.name, decodeOne(w, all.subarray(offset, offset + len)));
      offset += len;
    }
  }
  return out;
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const all = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.byteLength;
  }
  return all;
}
