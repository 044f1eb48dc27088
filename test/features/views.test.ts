/** Augmented feature views through the real extractor (the raw-pixel backbone: cheap, and its features are pixels). */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Example, ImageSource } from '../../src/data/types.js';
import { isGraftError } from '../../src/errors.js';
import { FeatureExtractor } from '../../src/features/extract.js';
import { sha256 } from '../../src/features/cache.js';
import { exampleBytes } from '../../src/features/read-sources.js';
import { viewCacheKey, viewImage } from '../../src/features/views.js';
import { pixelBackbone, pixelPreprocess, PIXELS_FEATURES } from '../../src/models/pixels.js';
import { fineTuneClassifier } from '../../src/pipeline/finetune.js';
import { trainClassifier } from '../../src/pipeline/train.js';

const digits = (n: number): Example<ImageSource>[] =>
  Array.from({ length: n }, (_, k) => ({
    id: `d${k}`,
    label: k % 2,
    source: {
      width: 28,
      height: 28,
      channels: 1 as const,
      data: Uint8Array.from({ length: 784 }, (_, i) => ((i % 28) * 9 + Math.floor(i / 28) * (k + 3)) % 256),
    },
  }));

async function extractor(examples: readonly Example<ImageSource>[], cacheDir: string | false) {
  const preprocess = pixelPreprocess(examples);
  const b = pixelBackbone(preprocess);
  return FeatureExtractor.create(b.model, b.spec.inputName, preprocess, [PIXELS_FEATURES], {
    cacheDir,
  });
}

test('a view is the features of its augmented image; cached by view, differing between views', async () => {
  const examples = digits(6);
  const cacheDir = await mkdtemp(join(tmpdir(), 'graft-views-'));
  const ex = await extractor(examples, cacheDir);
  const view = (index: number) => ({ index, seed: 7, augment: {} });
  const plain = await ex.extract(examples);
  const v1 = await ex.extract(examples, { view: view(1) });
  const v2 = await ex.extract(examples, { view: view(2) });
  assert.equal(v1.extracted, 6, 'views are not served the plain features from the cache');
  assert.notDeepEqual(v1.matrices[0], plain.matrices[0]);
  assert.notDeepEqual(v1.matrices[0], v2.matrices[0]);
  const again = await ex.extract(examples, { view: view(1) });
  assert.equal(again.fromCache, 6);
  assert.deepEqual(again.matrices[0], v1.matrices[0]);

  // Reference: the same augmented images made outside the extractor, extracted as plain examples.
  const augmented = await Promise.all(
    examples.map(async (e) => {
      const key = viewCacheKey(sha256(await exampleBytes(e.source)), view(1));
      return { ...e, source: await viewImage(e.source, key, view(1)) };
    }),
  );
  const reference = await ex.extract(augmented);
  assert.deepEqual(reference.matrices[0], v1.matrices[0]);
  // Grey digits stay grey and keep their size class: the augmented image has one channel.
  assert.equal((augmented[0]!.source as { channels: number }).channels, 1);
  await ex.release();

  // Without a cache the same view comes out.
  const uncached = await extractor(examples, false);
  assert.deepEqual((await uncached.extract(examples, { view: view(1) })).matrices[0], v1.matrices[0]);
  await uncached.release();
});

test('augmentViews: trains with views; settings that cannot apply are refused', async () => {
  const data = {
    kind: 'image' as const,
    name: 'digits',
    labels: ['a', 'b'],
    examples: digits(24),
    warnings: [],
  };
  const base = { data, model: 'pixels', cacheDir: false as const, valSplit: 0, testSplit: 0.25, seed: 1 };
  const r = await trainClassifier({ ...base, augmentViews: 2, head: 'ncm' });
  assert.equal(r.counts.train, 18);
  assert.equal(r.settings['augmentViews'], 2);
  assert.equal(r.settings['augmentViewUse'], 'rows');
  assert.match(String(r.settings['viewAugment']), /"scale":\[0\.5,1\]/);
  const refused = async (p: Promise<unknown>, pattern: RegExp) =>
    assert.rejects(p, (e: unknown) => isGraftError(e) && e.code === 'BAD_OPTION' && pattern.test(e.message));
  await refused(trainClassifier({ ...base, augmentViews: -1 }), /augment-views/);
  await refused(trainClassifier({ ...base, viewAugment: { flip: 0.5 } }), /without views/);
  await refused(trainClassifier({ ...base, augmentViews: 1, viewAugment: { flip: 3 } }), /flip/);
  await refused(fineTuneClassifier({ ...base, augmentViews: 2 }), /--augment/);
});
