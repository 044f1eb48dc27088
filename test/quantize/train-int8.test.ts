/**
 * `int8` on the training functions (`graft train --int8`): the run's model directory gains model.int8.onnx and its
 * graft.json record, calibrated on the run's own training split and guarded on its own held-out split. Checked
 * against independent figures: the guard's fp32 accuracy is the run's own held-out accuracy, its int8 accuracy is
 * what `load(dir, { int8: true })` scores on the test split recomputed here, the calibration count is the
 * (k-shot) training split's size, and the file is the one graft.json hashes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { stratifiedSplit } from '../../src/data/split.js';
import type { Dataset } from '../../src/data/types.js';
import { isGraftError } from '../../src/errors.js';
import { INT8_MODEL_FILE, readManifest } from '../../src/export/manifest.js';
import { decodeModel } from '../../src/onnx/io.js';
import { fineTuneClassifier } from '../../src/pipeline/finetune.js';
import { trainClassifier } from '../../src/pipeline/train.js';
import { trainTextClassifier } from '../../src/pipeline/train-text.js';
import { load } from '../../src/predict/classifier.js';
import { exampleInput } from '../../src/predict/inputs.js';
import { colourImages, keywordTexts, scratchDir, tinyCnn } from '../options/fixtures.js';
import { BERT_SOURCE } from '../text/helpers.js';

const SPLIT = { valSplit: 0.15, testSplit: 0.3, seed: 1 } as const;
let cnn = '';
let root = '';

before(async () => {
  cnn = await tinyCnn();
  root = await scratchDir('graft-train-int8-');
});

/**
 * Top-1 accuracy of `dir`'s int8 model on the test split of `data` (split here, as training splits it), predicted
 * in batches of 8 as the guard runs them: a dynamically quantized model's activation scale is the whole batch's
 * range, so its predictions depend on which examples share a batch.
 */
async function int8TestAccuracy(dir: string, data: Dataset): Promise<{ accuracy: number; n: number }> {
  const test = stratifiedSplit(data, { validation: SPLIT.valSplit, test: SPLIT.testSplit, seed: SPLIT.seed })
    .test.examples;
  const clf = await load(dir, { int8: true });
  try {
    const c = data.labels.length;
    let correct = 0;
    for (let start = 0; start < test.length; start += 8) {
      const batch = test.slice(start, start + 8);
      const probs = await clf.predictProbs(batch.map((e) => exampleInput(data, e)));
      batch.forEach((e, i) => {
        const row = Array.from(probs.subarray(i * c, (i + 1) * c));
        if (row.indexOf(Math.max(...row)) === e.label) correct++;
      });
    }
    return { accuracy: correct / test.length, n: test.length };
  } finally {
    await clf.release();
  }
}

/** The record in graft.json names the file on disk, by its bytes' hash. */
async function assertRecordMatchesFile(dir: string): Promise<void> {
  const manifest = await readManifest(dir);
  const bytes = await readFile(join(dir, INT8_MODEL_FILE));
  assert.equal(manifest.int8?.file, INT8_MODEL_FILE);
  assert.equal(manifest.int8?.sha256, createHash('sha256').update(bytes).digest('hex'));
  assert.equal(manifest.int8?.bytes, bytes.byteLength);
}

test('trainClassifier({ int8: true }) writes model.int8.onnx calibrated on the k-shot training split', async () => {
  const data = colourImages(60);
  const out = join(root, 'image');
  const r = await trainClassifier({
    data,
    model: cnn,
    head: 'linear',
    features: 'final',
    shots: 20,
    ...SPLIT,
    baseline: false,
    cacheDir: false,
    threads: 1,
    out,
    int8: { maxDrop: 100 },
  });
  assert.ok(r.int8, 'the result carries the int8 record');
  await assertRecordMatchesFile(out);
  assert.equal(r.int8.calibration.data, 'colours');
  // 20 shots × 3 classes: the run's own training examples, not the full training split (which has more).
  assert.equal(r.int8.calibration.examples, 60);
  assert.equal(r.evaluatedOn, 'test');
  const a = r.int8.accuracy!;
  assert.equal(a.examples, r.evaluation.n);
  // The guard's float accuracy is the run's own held-out figure (same examples, same model).
  assert.ok(Math.abs(a.fp32 - r.evaluation.accuracy) < 1e-9, `${a.fp32} vs ${r.evaluation.accuracy}`);
  const independent = await int8TestAccuracy(out, data);
  assert.equal(independent.n, a.examples);
  assert.ok(Math.abs(a.int8 - independent.accuracy) < 1e-9, `${a.int8} vs ${independent.accuracy}`);
  const q = decodeModel(await readFile(join(out, INT8_MODEL_FILE)));
  const ops = new Set(q.graph.nodes.map((n) => n.opType));
  assert.ok(ops.has('QuantizeLinear') && ops.has('DequantizeLinear'), 'static QDQ for an image model');
});

test('fineTuneClassifier({ int8 }) quantizes the fine-tuned model, with the settings given', async () => {
  const data = colourImages(40);
  const out = join(root, 'finetune');
  const r = await fineTuneClassifier({
    data,
    model: cnn,
    strategy: 'fine-tune',
    unfreeze: 'all',
    features: 'final',
    head: 'linear',
    epochs: 1,
    ...SPLIT,
    cacheDir: false,
    threads: 1,
    out,
    int8: { maxDrop: 100, method: 'percentile', calibrationExamples: 16 },
  });
  assert.ok(r.int8);
  await assertRecordMatchesFile(out);
  assert.equal(r.int8.method, 'percentile');
  assert.equal(r.int8.calibration.examples, 16);
  const independent = await int8TestAccuracy(out, data);
  assert.ok(Math.abs(r.int8.accuracy!.int8 - independent.accuracy) < 1e-9);
  assert.ok(Math.abs(r.int8.accuracy!.fp32 - r.evaluation.accuracy) < 1e-9);
});

test('trainTextClassifier({ int8: true }) quantizes the encoder dynamically, guarded on the test split', async () => {
  const data = keywordTexts(60);
  const out = join(root, 'text');
  const r = await trainTextClassifier({
    data,
    model: BERT_SOURCE,
    strategy: 'linear-probe',
    head: 'linear',
    ...SPLIT,
    cacheDir: false,
    threads: 1,
    int8: { maxDrop: 100 },
    args: { outputDir: out, maxSeqLength: 16, seed: SPLIT.seed },
  });
  assert.ok(r.int8);
  await assertRecordMatchesFile(out);
  assert.equal(r.int8.mode, 'dynamic');
  assert.equal(r.evaluatedOn, 'test');
  const independent = await int8TestAccuracy(out, data);
  assert.equal(r.int8.accuracy!.examples, independent.n);
  assert.ok(Math.abs(r.int8.accuracy!.int8 - independent.accuracy) < 1e-9);
  const ops = decodeModel(await readFile(join(out, INT8_MODEL_FILE))).graph.nodes.map((n) => n.opType);
  assert.ok(ops.includes('MatMulInteger'));
});

test('int8 requests that cannot be honoured are refused before training', async () => {
  const refused = (e: unknown) => isGraftError(e) && e.code === 'BAD_OPTION';
  const base = { data: colourImages(10), model: cnn, cacheDir: false as const, baseline: false };
  // Nowhere to write model.int8.onnx.
  await assert.rejects(trainClassifier({ ...base, int8: true }), refused);
  const out = join(root, 'refused');
  await assert.rejects(trainClassifier({ ...base, out, int8: { maxDrop: -1 } }), refused);
  await assert.rejects(
    trainClassifier({ ...base, out, int8: { calibration: 'mnist' } as unknown as { maxDrop: number } }),
    refused,
  );
  await assert.rejects(
    fineTuneClassifier({ ...base, out, strategy: 'fine-tune', int8: { calibrationExamples: 0 } }),
    refused,
  );
  await assert.rejects(
    trainTextClassifier({
      data: keywordTexts(10),
      model: 'tfidf',
      export: false,
      int8: true,
      args: { outputDir: out },
    }),
    refused,
  );
  // Nothing was written: the refusals came before training.
  await assert.rejects(access(out));
});
