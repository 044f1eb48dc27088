import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { isGraftError } from '../../src/errors.js';
import { getModelSpec } from '../../src/models/registry.js';
import { concatenationCandidate } from '../../src/strategies/auto-select.js';
import { load } from '../../src/predict/classifier.js';
import { preprocessBatch } from '../../src/preprocess/image.js';
import { trainClassifier } from '../../src/pipeline/train.js';
import { colourFolder, colourImage, COLOURS } from './fixtures.js';

const base = { model: 'npm:nsfwjs/mobilenet_v2', valSplit: 0.2, testSplit: 0.2, seed: 3 } as const;

test('train → export: a plain InferenceSession on model.onnx equals graft predict; cache avoids forward passes', async () => {
  const data = await colourFolder(10);
  const cacheDir = await mkdtemp(join(tmpdir(), 'graft-cache-'));
  const out = await mkdtemp(join(tmpdir(), 'graft-model-'));
  const first = await trainClassifier({ ...base, data, features: 'final', cacheDir, out });
  assert.deepEqual(first.labels, ['blue', 'green', 'red']);
  assert.ok(first.counts.extracted > 0 && first.counts.fromCache === 0);
  assert.ok(first.evaluation.accuracy >= 0.8, `accuracy ${first.evaluation.accuracy}`);
  assert.match(first.comparisons[0]!.name, /^raw pixels \(\w+ head\)$/);
  assert.equal(first.featureTensor, 'flatten_1');
  assert.deepEqual(
    first.candidates.map((c) => c.head),
    ['linear', 'knn', 'ncm', 'mlp'],
    'features fixed, head auto: the heads compete on those features',
  );

  const manifest = JSON.parse(await readFile(join(out, 'graft.json'), 'utf8'));
  assert.equal(manifest.featureTensor, 'flatten_1');
  assert.equal(manifest.output, 'probabilities');
  await access(join(out, 'report.html'));

  // Same preprocessed tensor into a raw ONNX Runtime session and into graft's predict.
  const files = Object.keys(COLOURS).map((c) => join(data, c, '0.png'));
  const x = await preprocessBatch(files, manifest.preprocess);
  const raw = await ort.InferenceSession.create(join(out, 'model.onnx'));
  const rawProbs = (await raw.run({ [manifest.inputs[0]]: new ort.Tensor('float32', x.data, [...x.shape]) }))[
    'probabilities'
  ]!.data as Float32Array;
  const clf = await load(out);
  const ours = await clf.predictProbs(files);
  assert.equal(ours.length, 9);
  for (let i = 0; i < ours.length; i++) assert.ok(Math.abs(ours[i]! - rawProbs[i]!) <= 1e-5);
  const preds = await clf.predict(files);
  assert.deepEqual(
    preds.map((p) => p.label),
    ['red', 'green', 'blue'],
  );
  await clf.release();

  // Second run: every feature comes from the cache. Adding 2 images extracts exactly those 2.
  const second = await trainClassifier({ ...base, data, features: 'final', cacheDir, baseline: false });
  assert.equal(second.counts.extracted, 0);
  await writeFile(join(data, 'red', 'extra-a.png'), await colourImage(COLOURS['red']!, 1001));
  await writeFile(join(data, 'blue', 'extra-b.png'), await colourImage(COLOURS['blue']!, 1002));
  const third = await trainClassifier({ ...base, data, features: 'final', cacheDir, baseline: false });
  assert.equal(third.counts.extracted, 2);
});

test('features auto: every candidate is cross-validated and the exported model cuts at the winner', async () => {
  const data = await colourFolder(6, 50);
  const r = await trainClassifier({ ...base, data, cacheDir: false, head: 'ncm', baseline: false });
  const singles = getModelSpec(base.model).candidateFeatures;
  const pair = concatenationCandidate(r.candidates.slice(0, singles.length), base.model, singles);
  assert.deepEqual(
    r.candidates.map((c) => c.tensor),
    [...singles, pair],
    'every single feature, then the two best side by side',
  );
  assert.ok(r.candidates.every((c) => c.head === 'ncm' && c.model === base.model));
  const best = Math.max(...r.candidates.map((c) => c.cvAccuracy));
  assert.equal(r.candidates.find((c) => c.tensor === r.featureTensor)!.cvAccuracy, best);
});

test('bad images are skipped and counted, or refused with one GraftError under fail', async () => {
  const data = await colourFolder(6, 90);
  await writeFile(join(data, 'red', 'broken.png'), (await colourImage(COLOURS['red']!, 5)).subarray(0, 60));
  const r = await trainClassifier({ ...base, data, features: 'final', cacheDir: false, baseline: false });
  assert.equal(r.counts.skipped, 1);
  await assert.rejects(
    trainClassifier({
      ...base,
      data,
      features: 'final',
      cacheDir: false,
      baseline: false,
      onBadInput: 'fail',
    }),
    (e) => isGraftError(e, 'BAD_INPUT') && /broken\.png/.test(e.message),
  );
});
