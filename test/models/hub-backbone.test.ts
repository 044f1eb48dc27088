import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { attr, GraphBuilder } from '../../src/onnx/builder.js';
import { createModel } from '../../src/onnx/ir.js';
import { encodeModel } from '../../src/onnx/io.js';
import { clearBackboneCache, loadBackbone } from '../../src/models/registry.js';
import { trainClassifier } from '../../src/pipeline/train.js';
import { float32 } from '../../src/tensor.js';
import { startHub } from '../sources/server.js';
import { colourFolder } from '../pipeline/fixtures.js';

/** A logits-only image classifier in the transformers.js layout: pixel_values → conv → pool → Gemm → logits. */
function tinyImageRepo(repo: string) {
  const b = new GraphBuilder('tiny');
  b.input('pixel_values', 'float32', ['batch', 3, 8, 8]);
  const w = b.initializer(
    'conv.weight',
    float32(
      [4, 3, 3, 3],
      Array.from({ length: 108 }, (_, i) => Math.sin(i)),
    ),
  );
  const conv = b.op('Conv', ['pixel_values', w], { pads: attr.ints([1, 1, 1, 1]) });
  const pooled = b.op('Flatten', [b.op('GlobalAveragePool', [b.op('Relu', [conv])])], { axis: attr.int(1) });
  const fc = b.initializer(
    'classifier.weight',
    float32(
      [4, 5],
      Array.from({ length: 20 }, (_, i) => Math.cos(i)),
    ),
  );
  b.op('Gemm', [pooled, fc], {}, { outputs: ['logits'] });
  b.output('logits', 'float32', ['batch', 5]);
  const files = new Map<string, Buffer>([
    ['onnx/model.onnx', Buffer.from(encodeModel(createModel(b.graph, 14)))],
    ['config.json', Buffer.from(JSON.stringify({ model_type: 'mobilenet_v2', num_labels: 5 }))],
    [
      'preprocessor_config.json',
      Buffer.from(
        JSON.stringify({
          do_resize: true,
          size: { shortest_edge: 8 },
          do_center_crop: true,
          crop_size: { height: 8, width: 8 },
          do_normalize: true,
          image_mean: [0.5, 0.5, 0.5],
          image_std: [0.25, 0.25, 0.25],
          rescale_factor: 1 / 255,
          resample: 2,
        }),
      ),
    ],
  ]);
  return { repo, commit: randomBytes(20).toString('hex'), files, lfs: new Set(['onnx/model.onnx']) };
}

test('hub: backbones download in the HF layout, take preprocessing from the repo, and train end to end', async () => {
  const hub = await startHub(tinyImageRepo('Xenova/mobilenet_v2_1.0_224'));
  const saved = { endpoint: process.env['HF_ENDPOINT'], cache: process.env['HF_HUB_CACHE'] };
  process.env['HF_ENDPOINT'] = hub.endpoint;
  process.env['HF_HUB_CACHE'] = await mkdtemp(join(tmpdir(), 'graft-hub-cache-'));
  try {
    clearBackboneCache();
    const { spec } = await loadBackbone('hub:Xenova/mobilenet_v2_1.0_224');
    assert.equal(spec.inputName, 'pixel_values');
    assert.ok(spec.preprocess.kind === 'image');
    assert.deepEqual(spec.preprocess.size, [8, 8]);
    assert.deepEqual(spec.preprocess.mean, [0.5, 0.5, 0.5]);
    assert.equal(spec.preprocess.layout, 'NCHW');
    assert.notEqual(spec.featureTensor, 'logits', 'features are read before the classifier');

    const r = await trainClassifier({
      data: await colourFolder(6, 200),
      model: 'hub:Xenova/mobilenet_v2_1.0_224',
      features: 'final',
      cacheDir: false,
      baseline: false,
    });
    assert.equal(r.labels.length, 3);
    assert.ok(r.evaluation.accuracy > 0.5, `accuracy ${r.evaluation.accuracy}`);
  } finally {
    process.env['HF_ENDPOINT'] = saved.endpoint;
    process.env['HF_HUB_CACHE'] = saved.cache;
    if (saved.endpoint === undefined) delete process.env['HF_ENDPOINT'];
    if (saved.cache === undefined) delete process.env['HF_HUB_CACHE'];
    clearBackboneCache();
    await hub.close();
  }
});
