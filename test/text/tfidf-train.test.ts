/** trainTextClassifier with model 'tfidf': offline training, export (model.onnx + tfidf.json), predict. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { TextDataset } from '../../src/data/types.js';
import { isGraftError } from '../../src/errors.js';
import { evaluateTextModel } from '../../src/pipeline/text-export.js';
import { prepareTextSplits, trainTextClassifier } from '../../src/pipeline/train-text.js';
import { load } from '../../src/predict/classifier.js';
import { mulberry32 } from '../../src/data/random.js';
import { TfidfVectorizer } from '../../src/text/tfidf/vectorizer.js';

const SPORT = ['match', 'goal', 'team', 'league', 'score', 'coach', 'season'];
const FOOD = ['recipe', 'butter', 'oven', 'flour', 'taste', 'dinner', 'spice'];
const FILLER = ['the', 'a', 'was', 'and', 'today', 'we', 'it'];

function dataset(n: number): TextDataset {
  const rng = mulberry32(5);
  const pick = (words: string[]) => words[Math.floor(rng() * words.length)]!;
  const examples = Array.from({ length: n }, (_, i) => {
    const label = i % 2;
    const topic = label === 0 ? FOOD : SPORT;
    const words = Array.from({ length: 8 }, () => (rng() < 0.5 ? pick(topic) : pick(FILLER)));
    return { id: `t${i}`, label, source: words.join(' ') };
  });
  return { kind: 'text', name: 'topics', labels: ['food', 'sport'], examples, warnings: [] };
}

test('tfidf trains offline and exports a model that predict and a raw ONNX Runtime session agree on', async () => {
  const out = await mkdtemp(join(tmpdir(), 'graft-tfidf-'));
  const data = dataset(60);
  const r = await trainTextClassifier({ data, model: 'tfidf', valSplit: 0.25, args: { outputDir: out } });
  assert.equal(r.method, 'features');
  const manifest = JSON.parse(await readFile(join(out, 'graft.json'), 'utf8'));
  assert.deepEqual(manifest.preprocess, { kind: 'text', vectorizer: 'tfidf', file: 'tfidf.json' });
  assert.deepEqual(manifest.inputs, ['term_counts']);
  const vec = TfidfVectorizer.fromJSON(JSON.parse(await readFile(join(out, 'tfidf.json'), 'utf8')));
  // The exported model, re-evaluated from its directory on the same split, scores what training reported.
  const split = await prepareTextSplits({ data, model: 'tfidf', valSplit: 0.25, args: { outputDir: out } });
  assert.equal(r.evaluatedOn, 'test');
  const evaluation = await evaluateTextModel(out, split.test);
  assert.equal(evaluation.n, r.evaluation.n);
  assert.equal(evaluation.accuracy, r.evaluation.accuracy);
  // graft predict = a plain InferenceSession fed the counts over tfidf.json's vocabulary.
  const texts = ['goal goal team', 'butter oven recipe', 'nothing known here'];
  const clf = await load(out);
  const ours = await clf.predictProbs(texts.map((text) => ({ text })));
  await clf.release();
  const raw = await ort.InferenceSession.create(join(out, 'model.onnx'));
  const feeds = { term_counts: new ort.Tensor('float32', vec.counts(texts), [3, vec.size]) };
  const theirs = (await raw.run(feeds))['probabilities']!.data as Float32Array;
  ours.forEach((p, i) => assert.ok(Math.abs(p - theirs[i]!) < 1e-6));
  assert.ok(ours[1]! > 0.5 && ours[2]! > 0.5, `sport, then food: ${Array.from(ours)}`);
});

test('tfidf refuses fine-tuning and encoder options instead of ignoring them', async () => {
  const data = dataset(20);
  const bad = (e: unknown) => isGraftError(e) && e.code === 'BAD_OPTION';
  await assert.rejects(
    trainTextClassifier({ data, model: 'tfidf', method: 'finetune', args: { outputDir: '/nonexistent' } }),
    bad,
  );
  await assert.rejects(
    trainTextClassifier({ data, model: 'tfidf', pooling: 'mean', export: false, args: { outputDir: '/x' } }),
    bad,
  );
});
