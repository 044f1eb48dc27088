/** Test helpers: seeded inputs, TF.js reference runs, diffs. */
import * as tf from '@tensorflow/tfjs';
import type { TfjsModelJson } from '../../src/sources/npm-models.js';
import type { Model } from '../../src/onnx/ir.js';
import { Session } from '../../src/runtime/session.js';
import type { Tensor } from '../../src/tensor.js';

/** Deterministic uniform values in [lo, hi) (mulberry32). */
export function seeded(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

export function concatShards(json: TfjsModelJson, shards: ReadonlyMap<string, Uint8Array>): ArrayBuffer {
  const parts = json.weightsManifest.flatMap((g) => g.paths.map((p) => shards.get(p)!));
  const total = parts.reduce((a, b) => a + b.byteLength, 0);
  const all = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.byteLength;
  }
  return all.buffer;
}

export function artifacts(
  json: TfjsModelJson,
  shards: ReadonlyMap<string, Uint8Array>,
): tf.io.ModelArtifacts {
  return {
    modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
    format: json.format,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
    weightData: concatShards(json, shards),
  };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** NHWC data → NCHW data. */
export function nhwcToNchw(data: ArrayLike<number>, shape: readonly number[]): Float32Array {
  const [n, h, w, c] = shape as [number, number, number, number];
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let ch = 0; ch < c; ch++)
          out[((b * c + ch) * h + y) * w + x] = data[((b * h + y) * w + x) * c + ch]!;
  return out;
}

/** Runs an IR model on one input, also returning extra (intermediate) tensors added as outputs. */
export async function runGraft(
  model: Model,
  input: Tensor,
  extra: readonly string[] = [],
): Promise<Record<string, Tensor>> {
  const m = {
    ...model,
    graph: { ...model.graph, outputs: [...model.graph.outputs, ...extra.map((name) => ({ name }))] },
  };
  const session = await Session.create(m, { threads: 2 });
  try {
    return await session.run({ [model.graph.inputs[0]!.name]: input });
  } finally {
    await session.release();
  }
}

export { tf };
