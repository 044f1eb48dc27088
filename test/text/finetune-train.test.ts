/**
 * The seed's second example on the tiny BERT: 3-label fine-tune, 5 epochs, batch 16, save_steps 10,
 * save_total_limit 2; exported model.onnx vs a plain InferenceSession; Classifier.predict on texts.
 */
import assert from 'node:assert/strict';
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { mulberry32 } from '../../src/data/random.js';
import { readCheckpoint } from '../../src/train/index.js';
import { isGraftError } from '../../src/errors.js';
import { evaluateTextModel } from '../../src/pipeline/text-export.js';
import { trainTextClassifier } from '../../src/pipeline/train-text.js';
import { Classifier } from '../../src/predict/classifier.js';
import '../../src/text/index.js';
import { encodeTexts, loadTokenizer } from '../../src/text/index.js';
import { BERT_SOURCE, maxAbsDiff, tempDir } from './helpers.js';

const KEYWORDS: Record<string, string[]> = {
  animal: ['cat', 'dog', 'bird', 'fish', 'fox'],
  color: ['red', 'blue', 'green', 'black', 'white'],
  number: ['one', 'two', 'three', 'four', 'five'],
};
const FILLER = 'the a of to in and is was it this that they we you have time day people way work'.split(' ');

/** Sentences of filler words with one or two class keywords. */
function rows(perClass: number, seed: number): { text: string; label: string }[] {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const out: { text: string; label: string }[] = [];
  for (let i = 0; i < perClass; i++)
    for (const [label, words] of Object.entries(KEYWORDS)) {
      const parts = Array.from({ length: 3 + Math.floor(rnd() * 6) }, () => pick(FILLER));
      parts.splice(Math.floor(rnd() * parts.length), 0, pick(words));
      out.push({ text: parts.join(' '), label });
    }
  return out;
}

async function csv(dir: string, data: { text: string; label: string }[], name: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, ['text,label', ...data.map((r) => `"${r.text}",${r.label}`)].join('\n') + '\n');
  return path;
}

describe('BERT sequence-classification fine-tuning (tiny BERT)', () => {
  test('HF-style run: checkpoints every 10 steps, last 2 kept (+ best), accuracy above chance, export parity', async () => {
    await using tmp = await tempDir();
    const train = await csv(tmp.dir, rows(32, 1), 'train.csv'); // 96 rows: 6 steps per epoch at batch 16
    const evalData = await csv(tmp.dir, rows(10, 2), 'eval.csv');
    const out = join(tmp.dir, 'out');
    const logs: Record<string, number>[] = [];
    const result = await trainTextClassifier({
      data: train,
      evalData,
      testSplit: 0, // every training row trains: the step counts below are HF's for 96 rows
      model: BERT_SOURCE,
      threads: 2,
      args: {
        outputDir: out,
        numTrainEpochs: 5,
        perDeviceTrainBatchSize: 16,
        perDeviceEvalBatchSize: 32,
        learningRate: 1e-2,
        warmupRatio: 0.1,
        weightDecay: 0.01,
        evaluationStrategy: 'steps',
        evalSteps: 10,
        loggingSteps: 5,
        saveSteps: 10,
        saveTotalLimit: 2,
        loadBestModelAtEnd: true,
        metricForBestModel: 'accuracy',
        seed: 7,
        maxSeqLength: 16,
      },
      onLog: (e) => logs.push(e),
    });
    // 30 steps: checkpoints 10, 20, 30 written; limit 2 keeps the newest and the best.
    const dirs = (await readdir(join(out, 'checkpoints'))).filter((n) => n.startsWith('checkpoint-')).sort();
    const best = basename(result.bestModelCheckpoint!);
    assert.deepEqual(result.checkpoints.map((p) => basename(p)).sort(), dirs);
    // HF's rotation: the best checkpoint moves next to the newest, then all but the last 2 go.
    const expected =
      best === 'checkpoint-30' ? ['checkpoint-20', 'checkpoint-30'] : [best, 'checkpoint-30'].sort();
    assert.deepEqual(dirs, expected);
    const state = JSON.parse(
      await readFile(join(out, 'checkpoints', 'checkpoint-30', 'trainer_state.json'), 'utf8'),
    );
    assert.equal(state.global_step, 30);
    assert.equal(logs.filter((l) => 'loss' in l).length, 6);
    assert.deepEqual(
      logs.filter((l) => 'eval_accuracy' in l).map((l) => l.step),
      [10, 20, 30],
    );
    assert.equal(result.history!.epochs.length, 5);
    assert.ok(result.evaluation.accuracy > 0.6, `accuracy ${result.evaluation.accuracy}`);
    assert.equal(result.evaluatedOn, 'evaluation');

    // The exported model.onnx in a plain InferenceSession = graft's predict.
    const manifest = result.manifest!;
    assert.deepEqual(manifest.inputs, ['input_ids', 'attention_mask', 'token_type_ids']);
    assert.equal(manifest.preprocess.kind, 'text');
    const texts = ['the cat was here', 'two people and three', '', '   ', 'red '.repeat(1600)];
    const tok = await loadTokenizer(out);
    const batch = encodeTexts(tok, texts, { maxLength: 16 });
    const session = await ort.InferenceSession.create(join(out, 'model.onnx'));
    const feeds = Object.fromEntries(
      manifest.inputs.map((n) => {
        const t = batch[n as 'input_ids'];
        return [n, new ort.Tensor('int64', t.data, [...t.shape])];
      }),
    );
    const raw = await session.run(feeds);
    const rawProbs = raw['probabilities']!.data as Float32Array;
    assert.equal(raw['logits']!.dims.join(), '5,3');
    const clf = await Classifier.load(out);
    const probs = await clf.predictProbs(texts.map((text) => ({ text })));
    assert.ok(maxAbsDiff(probs, rawProbs) <= 1e-5, `diff ${maxAbsDiff(probs, rawProbs)}`);
    const preds = await clf.predict([{ text: 'the cat was here' }, { text: 'two people and three' }]);
    assert.deepEqual(
      preds.map((p) => p.label),
      ['animal', 'number'],
    );
    await clf.release();
    await session.release();

    // Evaluating the exported model on labelled texts; an unknown label is a clear error.
    const report = await evaluateTextModel(out, evalData);
    assert.ok(Math.abs(report.accuracy - result.evaluation.accuracy) < 1e-9);
    const bad = await csv(tmp.dir, [{ text: 'a dog', label: 'vehicle' }], 'bad.csv');
    await assert.rejects(
      evaluateTextModel(out, bad),
      (e) => isGraftError(e, 'BAD_INPUT') && /vehicle/.test(e.message),
    );
  });

  test('resumeFromCheckpoint continues exactly where an uninterrupted run would be', async () => {
    await using tmp = await tempDir();
    const train = await csv(tmp.dir, rows(16, 3), 'train.csv'); // 48 rows: 3 steps per epoch at batch 16
    const args = {
      numTrainEpochs: 3,
      perDeviceTrainBatchSize: 16,
      learningRate: 5e-3,
      warmupSteps: 2,
      saveSteps: 3,
      seed: 5,
      maxSeqLength: 12,
    };
    const common = {
      data: train,
      model: BERT_SOURCE,
      dropout: 0,
      threads: 2,
      export: false,
      valSplit: 0.25,
      testSplit: 0,
    };
    const full = join(tmp.dir, 'full');
    await trainTextClassifier({ ...common, args: { ...args, outputDir: full } });
    const resumed = join(tmp.dir, 'resumed');
    const ck = (dir: string, step: number) => join(dir, 'checkpoints', `checkpoint-${step}`);
    await cp(ck(full, 3), ck(resumed, 3), { recursive: true });
    const r = await trainTextClassifier({
      ...common,
      args: { ...args, outputDir: resumed, resumeFromCheckpoint: true },
    });
    assert.deepEqual(
      r.checkpoints.map((p) => basename(p)),
      ['checkpoint-3', 'checkpoint-6', 'checkpoint-9'],
    );
    const a = (await readCheckpoint(ck(full, 9))).state;
    const b = (await readCheckpoint(ck(resumed, 9))).state;
    assert.equal(b.step, 9);
    let diff = 0;
    for (const [k, v] of a.params) diff = Math.max(diff, maxAbsDiff(v, b.params.get(k)!));
    assert.ok(diff < 1e-5, `max parameter difference ${diff}`);
  });
});
