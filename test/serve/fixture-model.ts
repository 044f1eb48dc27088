/**
 * A tiny image classifier directory (model.onnx + graft.json) for serve tests and the load benchmark, built
 * without the training pipeline: input 'input' [batch, S, S, 3] NHWC → Flatten → Gemm → Softmax →
 * 'probabilities' [batch, labels]. Optional 3×3 conv layers in front make it compute-bound (for benchmarks).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST_FILE, MODEL_FILE, writeManifest, type ModelManifest } from '../../src/export/manifest.js';
import type { ImagePreprocess } from '../../src/models/spec.js';
import { attr, GraphBuilder } from '../../src/onnx/builder.js';
import { createModel } from '../../src/onnx/ir.js';
import { saveModel } from '../../src/onnx/io.js';
import { float32 } from '../../src/tensor.js';

export interface FixtureOptions {
  /** Input height and width (default 8). */
  size?: number;
  labels?: string[];
  /** Number of 3×3 stride-1 conv + Relu layers (with `channels` filters) before the classifier (default 0). */
  convLayers?: number;
  channels?: number;
  seed?: number;
}

export const FIXTURE_LABELS = ['cat', 'dog', 'bird'];

/** Deterministic pseudo-random floats in [-scale, scale). */
function weights(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}

export function fixturePreprocess(size = 8): ImagePreprocess {
  return {
    kind: 'image',
    size: [size, size],
    resizeShorter: size,
    crop: 'center',
    interpolation: 'bilinear',
    layout: 'NHWC',
    channels: 3,
    scale: 1 / 255,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
  };
}

/** Writes the fixture model into `dir` (created if needed) and returns `dir`. */
export async function buildFixtureModel(dir: string, options: FixtureOptions = {}): Promise<string> {
  const size = options.size ?? 8;
  const labels = options.labels ?? FIXTURE_LABELS;
  const seed = options.seed ?? 1234;
  const b = new GraphBuilder('graft_fixture');
  const input = b.input('input', 'float32', ['batch', size, size, 3]);
  let x = input;
  let channels = 3;
  const convLayers = options.convLayers ?? 0;
  if (convLayers > 0) {
    const filters = options.channels ?? 16;
    x = b.op('Transpose', [x], { perm: attr.ints([0, 3, 1, 2]) });
    for (let l = 0; l < convLayers; l++) {
      const w = b.constant(
        'conv_w',
        float32([filters, channels, 3, 3], weights(filters * channels * 9, seed + l, 0.3)),
      );
      const bias = b.constant('conv_b', float32([filters], weights(filters, seed + 100 + l, 0.1)));
      x = b.op('Conv', [x, w, bias], { pads: attr.ints([1, 1, 1, 1]) });
      x = b.op('Relu', [x]);
      channels = filters;
    }
  }
  const flat = b.op('Flatten', [x], { axis: attr.int(1) });
  const features = size * size * channels;
  const w = b.constant(
    'head_w',
    float32([features, labels.length], weights(features * labels.length, seed, 0.5)),
  );
  const bias = b.constant('head_b', float32([labels.length], weights(labels.length, seed + 7, 0.2)));
  const logits = b.op('Gemm', [flat, w, bias]);
  b.node('Softmax', [logits], { axis: attr.int(1) }, { outputs: ['probabilities'] });
  b.output('probabilities', 'float32', ['batch', labels.length]);

  await mkdir(dir, { recursive: true });
  await saveModel(createModel(b.graph, 17), join(dir, MODEL_FILE));
  const manifest: ModelManifest = {
    format: 'graft-model',
    version: 1,
    task: 'image-classification',
    labels,
    inputs: [input],
    output: 'probabilities',
    preprocess: fixturePreprocess(size),
    base: { id: 'fixture/tiny', sha256: '0'.repeat(64) },
    featureTensor: flat,
    head: { kind: 'linear' },
    training: {},
    metrics: {},
    createdAt: new Date(0).toISOString(),
    graftVersion: '0.1.0',
  };
  await writeManifest(dir, manifest);
  return dir;
}

export { MANIFEST_FILE, MODEL_FILE };
