import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadDataset } from '../../src/data/load.js';
import { isGraftError } from '../../src/errors.js';
import { evaluateDataset } from '../../src/eval/evaluate-dataset.js';
import { evaluate } from '../../src/eval/report.js';
import { load } from '../../src/predict/classifier.js';
import { exampleInput } from '../../src/predict/inputs.js';
import { buildFixtureModel } from '../serve/fixture-model.js';
import { testImage } from '../serve/helpers.js';

let root: string;
let model: string;
let data: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'graft-eval-ds-'));
  model = await buildFixtureModel(join(root, 'model'), { size: 16 });
  data = join(root, 'data');
  for (const [label, seeds] of [
    ['cat', [1, 2, 3]],
    ['dog', [4, 5]],
  ] as const) {
    await mkdir(join(data, label), { recursive: true });
    for (const s of seeds) await writeFile(join(data, label, `${s}.png`), await testImage(s, 'png', 20, 20));
  }
  // Passes the loader's header check, fails to decode at prediction time.
  const good = await testImage(9, 'png', 20, 20);
  await writeFile(join(data, 'dog', 'cut.png'), good.subarray(0, good.length - 40));
});

after(() => rm(root, { recursive: true, force: true }));

test('an image that fails to decode is skipped and counted, and the rest are scored as on their own', async () => {
  const clf = await load(model);
  try {
    const ds = await loadDataset(data);
    assert.equal(ds.examples.length, 6);
    const { report, warnings } = await evaluateDataset(clf, ds, { batchSize: 4 });
    assert.equal(report.n, 5);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.code, 'BAD_IMAGE');
    assert.equal(warnings[0]!.count, 1);
    assert.match(warnings[0]!.items[0]!, /cut\.png/);
    // The readable five, predicted without the bad one in their batch, give the same report.
    const readable = ds.examples.filter((e) => !e.id.includes('cut'));
    const probs = await clf.predictProbs(readable.map((e) => exampleInput(ds, e)));
    const labels = Int32Array.from(readable, (e) => clf.labels.indexOf(ds.labels[e.label]!));
    assert.deepEqual(report, evaluate(probs, labels));
  } finally {
    await clf.release();
  }
});

test("under 'fail' the same image fails the evaluation with BAD_INPUT naming it", async () => {
  const clf = await load(model);
  try {
    const ds = await loadDataset(data);
    await assert.rejects(
      evaluateDataset(clf, ds, { onBadInput: 'fail' }),
      (e) => isGraftError(e, 'BAD_INPUT') && /cut\.png/.test(e.message),
    );
  } finally {
    await clf.release();
  }
});
