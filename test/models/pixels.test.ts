/** The raw-pixel baseline as a Backbone: its spec follows the data, and it extracts/exports like any model. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import type { Example, ImageSource } from '../../src/data/types.js';
import { isGraftError } from '../../src/errors.js';
import { FeatureExtractor } from '../../src/features/extract.js';
import { pixelBackbone, pixelPreprocess, PIXELS_FEATURES } from '../../src/models/pixels.js';
import { loadBackbone } from '../../src/models/registry.js';
import { trainClassifier } from '../../src/pipeline/train.js';
import { load } from '../../src/predict/classifier.js';
import { preprocessBatch } from '../../src/preprocess/image.js';
import { colourFolder } from '../pipeline/fixtures.js';

const raw = (w: number, h: number, channels: 1 | 3, seed: number): Example<ImageSource> => ({
  id: `r${seed}`,
  label: seed % 2,
  source: {
    width: w,
    height: h,
    channels,
    data: Uint8Array.from({ length: w * h * channels }, (_, i) => (i * 31 + seed * 17) % 256),
  },
});

test('pixelPreprocess: gray raw digits keep their size (≤ 32) and one channel; colour becomes 32x32 RGB', () => {
  const gray = pixelPreprocess([raw(28, 28, 1, 1), raw(28, 28, 1, 2)]);
  assert.deepEqual([gray.size, gray.channels, gray.layout], [[28, 28], 1, 'NHWC']);
  const colour = pixelPreprocess([raw(50, 40, 3, 1)]);
  assert.deepEqual([colour.size, colour.channels], [[32, 32], 3]);
  const mixed = pixelPreprocess([raw(28, 28, 1, 1), raw(28, 28, 3, 2)]);
  assert.equal(mixed.channels, 3);
});

test('pixelPreprocess reads gray vs colour from PNG and JPEG headers', async () => {
  const px = Buffer.alloc(20 * 20, 128);
  const grayPng = await sharp(px, { raw: { width: 20, height: 20, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
  const grayJpeg = await sharp(px, { raw: { width: 20, height: 20, channels: 1 } })
    .toColourspace('b-w')
    .jpeg()
    .toBuffer();
  const rgb = Buffer.alloc(20 * 20 * 3, 90);
  const rgbJpeg = await sharp(rgb, { raw: { width: 20, height: 20, channels: 3 } })
    .jpeg()
    .toBuffer();
  const ex = (source: Uint8Array, i: number): Example<ImageSource> => ({ id: `f${i}`, label: 0, source });
  assert.equal(pixelPreprocess([ex(grayPng, 0), ex(grayJpeg, 1)]).channels, 1);
  assert.equal(pixelPreprocess([ex(grayPng, 0), ex(rgbJpeg, 1)]).channels, 3);
});

test('loadBackbone(pixels) needs the examples; its features are the preprocessed pixels, flattened', async () => {
  await assert.rejects(loadBackbone('pixels'), (e: unknown) => isGraftError(e) && e.code === 'BAD_OPTION');
  const examples = [raw(30, 28, 1, 1), raw(28, 28, 1, 2), raw(40, 36, 1, 3)];
  const b = await loadBackbone('pixels', { examples });
  assert.equal(b.spec.featureTensor, PIXELS_FEATURES);
  assert.ok(b.spec.preprocess.kind === 'image');
  const fx = await FeatureExtractor.create(b.model, b.spec.inputName, b.spec.preprocess, [PIXELS_FEATURES], {
    cacheDir: false,
  });
  const set = await fx.extract(examples);
  await fx.release();
  const expected = await preprocessBatch(
    examples.map((e) => e.source),
    b.spec.preprocess,
  );
  assert.deepEqual(set.dims, [28 * 28]);
  assert.deepEqual(Array.from(set.matrices[0]!), Array.from(expected.data));
  // A spec alone rebuilds the same backbone (what graft.json's preprocess holds).
  assert.deepEqual(pixelBackbone(b.spec.preprocess).spec, b.spec);
});

test('train --model pixels exports a model.onnx + graft.json that predict loads', async () => {
  const data = await colourFolder(6, 11);
  const out = await mkdtemp(join(tmpdir(), 'graft-pixels-'));
  const r = await trainClassifier({
    data,
    model: 'pixels',
    valSplit: 0.2,
    testSplit: 0.2,
    seed: 1,
    cacheDir: false,
    baseline: false,
    out,
  });
  assert.equal(r.featureTensor, PIXELS_FEATURES);
  const manifest = JSON.parse(await readFile(join(out, 'graft.json'), 'utf8'));
  assert.equal(manifest.base.id, 'pixels');
  assert.deepEqual(manifest.preprocess.size, [32, 32]);
  const clf = await load(out);
  const files = ['red', 'green', 'blue'].map((c) => join(data, c, '0.png'));
  const preds = await clf.predict(files);
  await clf.release();
  assert.equal(preds.length, 3);
  for (const p of preds) assert.ok(['red', 'green', 'blue'].includes(p.label));
});
