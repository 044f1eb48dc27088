import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadDataset } from '../../src/data/load.js';
import { FeatureExtractor } from '../../src/features/extract.js';
import { loadBackbone } from '../../src/models/registry.js';
import { fineTuneClassifier } from '../../src/pipeline/finetune.js';
import { trainClassifier } from '../../src/pipeline/train.js';
import { linearProbe } from '../../src/pipeline/probe-warm-start.js';
import { load } from '../../src/predict/classifier.js';
import { colourFolder } from '../pipeline/fixtures.js';

test('LP-FT starts from the L-BFGS probe: with no fine-tuning phase the exported model is exactly that probe', async () => {
  const data = await colourFolder(6, 300);
  const out = await mkdtemp(join(tmpdir(), 'graft-warm-'));
  const common = {
    data,
    valSplit: 0,
    testSplit: 0.34,
    seed: 1,
    cacheDir: false as const,
    features: 'final',
  };
  // unfreeze 'none': LP-FT's fine-tuning phase has nothing to train, so what ships is its starting probe.
  const r = await fineTuneClassifier({ ...common, strategy: 'lp-ft', unfreeze: 'none', out });
  assert.deepEqual(r.phases, [], 'the probe replaces the Adam head phase');

  // Independently: pooled features of a few images · the probe's weights, softmax.
  const backbone = await loadBackbone('npm:nsfwjs/mobilenet_v2');
  const ds = await loadDataset(data);
  const { stratifiedSplit } = await import('../../src/data/split.js');
  const train = stratifiedSplit(ds, { validation: 0, test: 0.34, seed: 1 }).train.examples;
  const { weight, bias } = await linearProbe(backbone, train, {
    featureTensor: 'flatten_1',
    numClasses: 3,
    seed: 1,
    cacheDir: false,
    onBadInput: 'skip',
  });
  const sample = ds.examples.slice(0, 4);
  const ex = await FeatureExtractor.create(
    backbone.model,
    'input_1',
    backbone.spec.preprocess as never,
    ['flatten_1'],
    {
      cacheDir: false,
    },
  );
  const f = await ex.extract(sample);
  await ex.release();
  const clf = await load(out);
  const probs = await clf.predictProbs(sample.map((e) => e.source as string));
  await clf.release();
  for (let n = 0; n < sample.length; n++) {
    const logits = [0, 1, 2].map((c) => {
      let z = bias[c]!;
      for (let i = 0; i < 1280; i++) z += f.matrices[0]![n * 1280 + i]! * weight[c * 1280 + i]!;
      return z;
    });
    const m = Math.max(...logits);
    const e = logits.map((z) => Math.exp(z - m));
    const sum = e.reduce((a, b) => a + b, 0);
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(probs[n * 3 + c]! - e[c]! / sum) < 1e-4);
  }
});

test('linear-probe is one procedure: fineTuneClassifier gives what trainClassifier with a linear head gives', async () => {
  const data = await colourFolder(6, 300);
  const common = { data, valSplit: 0, testSplit: 0.34, seed: 1, cacheDir: false as const, features: 'final' };
  const probe = await fineTuneClassifier({ ...common, strategy: 'linear-probe' });
  const direct = await trainClassifier({ ...common, head: 'linear', baseline: false });
  assert.equal(probe.strategy, 'linear-probe');
  assert.equal(probe.trainableTensors, 0);
  assert.equal(probe.featureTensor, direct.featureTensor);
  assert.deepEqual(probe.evaluation, direct.evaluation);
  assert.equal(probe.evaluation.n, 6);
});
