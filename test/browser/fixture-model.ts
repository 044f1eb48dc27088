/**
 * A tiny graft model directory: input 'input' [batch,16,16,3] NHWC → Transpose → Conv → Relu → Conv (stride 2)
 * → GlobalAveragePool → Flatten → Gemm → Softmax 'probabilities', with ImageNet mean/std preprocessing.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { MODEL_FILE, writeManifest, type ModelManifest } from '../../src/export/manifest.js';
import { IMAGENET_MEAN, IMAGENET_STD, type ImagePreprocess } from '../../src/models/spec.js';
import { attr, GraphBuilder } from '../../src/onnx/builder.js';
import { createModel } from '../../src/onnx/ir.js';
import { saveModel } from '../../src/onnx/io.js';
import { float32 } from '../../src/tensor.js';
import { VERSION } from '../../src/version.js';

export const SIZE = 16;
export const LABELS = ['red', 'green', 'blue', 'gray'];

export const PREPROCESS: ImagePreprocess = {
  kind: 'image',
  size: [SIZE, SIZE],
  resizeShorter: SIZE,
  crop: 'none',
  interpolation: 'bilinear',
  layout: 'NHWC',
  channels: 3,
  scale: 1 / 255,
  mean: [...IMAGENET_MEAN],
  std: [...IMAGENET_STD],
};

/** Deterministic weights in [-scale, scale). */
function weights(seed: number, n: number, scale: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 2 * scale;
  });
}

export async function writeFixtureModel(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const b = new GraphBuilder('browser_fixture');
  b.input('input', 'float32', ['batch', SIZE, SIZE, 3]);
  const nchw = b.op('Transpose', ['input'], { perm: attr.ints([0, 3, 1, 2]) });
  const w1 = b.constant('conv1_w', float32([6, 3, 3, 3], weights(1, 6 * 27, 0.4)));
  const b1 = b.constant('conv1_b', float32([6], weights(2, 6, 0.1)));
  const c1 = b.op('Conv', [nchw, w1, b1], { pads: attr.ints([1, 1, 1, 1]), kernel_shape: attr.ints([3, 3]) });
  const r1 = b.op('Relu', [c1]);
  const w2 = b.constant('conv2_w', float32([8, 6, 3, 3], weights(3, 8 * 54, 0.3)));
  const b2 = b.constant('conv2_b', float32([8], weights(4, 8, 0.1)));
  const c2 = b.op('Conv', [r1, w2, b2], { pads: attr.ints([1, 1, 1, 1]), strides: attr.ints([2, 2]) });
  const pooled = b.op('GlobalAveragePool', [c2]);
  const flat = b.op('Flatten', [pooled], {}, { outputs: ['features'] });
  const wg = b.constant('head_w', float32([8, LABELS.length], weights(5, 8 * LABELS.length, 3)));
  const bg = b.constant('head_b', float32([LABELS.length], weights(6, LABELS.length, 0.2)));
  const logits = b.op('Gemm', [flat, wg, bg]);
  b.op('Softmax', [logits], { axis: attr.int(-1) }, { outputs: ['probabilities'] });
  b.output('probabilities', 'float32', ['batch', LABELS.length]);
  await saveModel(createModel(b.graph, 17), join(dir, MODEL_FILE));
  const manifest: ModelManifest = {
    format: 'graft-model',
    version: 1,
    task: 'image-classification',
    labels: LABELS,
    inputs: ['input'],
    output: 'probabilities',
    preprocess: PREPROCESS,
    base: { id: 'test:browser-fixture', sha256: '' },
    featureTensor: 'features',
    head: { kind: 'linear' },
    training: {},
    metrics: {},
    createdAt: new Date(0).toISOString(),
    graftVersion: VERSION,
  };
  await writeManifest(dir, manifest);
}
