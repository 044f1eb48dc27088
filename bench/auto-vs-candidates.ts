/**
 * Does the search choose well? On a training set and a separate test set: the test accuracy of what `graft train`
 * ships (its exported model, scored like `graft eval`), beside every candidate of its decision table fitted on
 * the whole training set and scored on the same test set — the best of those in hindsight is what a user who
 * tried everything by hand would have picked. The goal: shipped ≥ max(best candidate, raw-pixel
 * baseline) − 1 point. Not a timing benchmark.
 *
 *   /usr/bin/python3 bench/data/sklearn-digits.py /tmp/digits10 --shots 10
 *   node --import tsx bench/auto-vs-candidates.ts --train /tmp/digits10/train --test /tmp/digits10/test
 *     [--model npm:nsfwjs/mobilenet_v2] [--budget 300] [--seed 0] [--val-split 0]
 *
 * Candidates are scored from cached features (one extraction of the test set per source), so the whole table
 * costs one pass over the test images per backbone.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadDataset } from '../src/data/load.js';
import type { Example, ImageSource } from '../src/data/types.js';
import { evaluateDataset } from '../src/eval/evaluate-dataset.js';
import { evaluate } from '../src/eval/report.js';
import { loadBackbone } from '../src/models/registry.js';
import { extractSource, sourceMatrix, type FeatureSource } from '../src/pipeline/feature-sources.js';
import { resolveTrainOptions } from '../src/pipeline/options.js';
import { headOptions, trainClassifier } from '../src/pipeline/train.js';
import { load } from '../src/predict/classifier.js';
import { fitHead } from '../src/heads/fitted.js';
import { featureParts, formatFeatureId } from '../src/features/feature-id.js';

const { values } = parseArgs({
  options: {
    train: { type: 'string' },
    test: { type: 'string' },
    model: { type: 'string', default: 'npm:nsfwjs/mobilenet_v2' },
    budget: { type: 'string', default: '300' },
    seed: { type: 'string', default: '0' },
    'val-split': { type: 'string', default: '0' },
  },
});
if (!values.train || !values.test) throw new Error('--train and --test are required');
const seed = Number(values.seed);
const out = await mkdtemp(join(tmpdir(), 'graft-auto-vs-'));
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

try {
  const shipped = await trainClassifier({
    data: values.train,
    model: values.model,
    testSplit: 0,
    valSplit: Number(values['val-split']),
    seed,
    budget: Number(values.budget),
    out,
  });
  const testSet = await loadDataset(values.test);
  const clf = await load(out);
  const shippedTest = (await evaluateDataset(clf, testSet)).report.accuracy;
  await clf.release();

  // Every candidate of the decision table, fitted on all training examples, scored on the test set.
  const train = await loadDataset(values.train);
  if (train.kind !== 'image' || testSet.kind !== 'image') throw new Error('image data sets only');
  const o = resolveTrainOptions({ data: values.train, model: values.model, seed });
  const byModel = new Map<string, string[]>();
  for (const c of shipped.candidates.filter((c) => !c.skipped)) {
    const parts = featureParts(c.tensor).map(formatFeatureId);
    byModel.set(c.model, [...new Set([...(byModel.get(c.model) ?? []), ...parts])]);
  }
  // Test labels follow the training set's label order.
  const relabel = (e: Example<ImageSource>): Example<ImageSource> => ({
    ...e,
    id: `test:${e.id}`,
    label: train.labels.indexOf(testSet.labels[e.label]!),
  });
  const testExamples = testSet.examples.map(relabel);
  const sources = new Map<string, FeatureSource>();
  for (const [model, features] of byModel) {
    const backbone = await loadBackbone(model, { examples: train.examples });
    sources.set(
      model,
      await extractSource(backbone, features, [...train.examples, ...testExamples], o, () => {}),
    );
  }
  const trainIds = new Set(train.examples.map((e) => e.id));
  const testIds = new Set(testExamples.map((e) => e.id));
  const rows: { name: string; cv: number; test: number }[] = [];
  for (const c of shipped.candidates.filter((c) => !c.skipped)) {
    const source = sources.get(c.model)!;
    const head = await fitHead(
      sourceMatrix(source, c.tensor, trainIds),
      train.labels.length,
      headOptions(o, c.head),
    );
    const held = sourceMatrix(source, c.tensor, testIds);
    const test = evaluate(await head.predictProbs(held), held.labels).accuracy;
    await head.release();
    rows.push({
      name: `${c.head} on ${c.model === values.model ? c.tensor : c.model}`,
      cv: c.cvAccuracy,
      test,
    });
  }
  const best = rows.reduce((a, b) => (b.test > a.test ? b : a));
  const pixels = rows.filter((r) => r.name.includes('pixels')).reduce((a, b) => Math.max(a, b.test), 0);
  const lines = [
    `train ${values.train} (${train.examples.length}), test ${values.test} (${testExamples.length}), seed ${seed}`,
    'candidate                                          cv      test',
    ...rows.map((r) => `${r.name.padEnd(50)} ${pct(r.cv).padStart(6)}  ${pct(r.test).padStart(6)}`),
    '',
    `shipped: ${shipped.recipe === 'lp-ft' ? 'LP-FT' : shipped.head} on ${shipped.model === values.model ? shipped.featureTensor : shipped.model}: test ${pct(shippedTest)}`,
    `best candidate in hindsight: ${best.name}: ${pct(best.test)}; best raw-pixel candidate: ${pct(pixels)}`,
    `shipped − max(best, pixels) = ${((shippedTest - Math.max(best.test, pixels)) * 100).toFixed(1)} points (goal ≥ −1)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await rm(out, { recursive: true, force: true });
}
