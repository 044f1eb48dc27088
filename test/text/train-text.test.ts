/** trainTextClassifier: the feature-extraction path, unfreeze top:N, and bad input (each a clear GraftError). */
import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { mulberry32 } from '../../src/data/random.js';
import { isGraftError } from '../../src/errors.js';
import { decodeModel } from '../../src/onnx/io.js';
import { trainTextClassifier } from '../../src/pipeline/train-text.js';
import { Classifier } from '../../src/predict/classifier.js';
import { SequenceClassifier, trainableEncoderParams } from '../../src/text/finetune/index.js';
import '../../src/text/index.js';
import { encodeTexts, loadTokenizer } from '../../src/text/index.js';
import { BERT_DIR, BERT_SOURCE, maxAbsDiff, tempDir } from './helpers.js';

const WORDS: Record<string, string[]> = {
  happy: ['love', 'great', 'good', 'happy'],
  sad: ['hate', 'terrible', 'awful', 'bad'],
};

async function csv(dir: string, perClass: number, name = 'data.csv', extra: string[] = []): Promise<string> {
  const rnd = mulberry32(3);
  const lines = ['text,label', ...extra];
  for (let i = 0; i < perClass; i++)
    for (const [label, words] of Object.entries(WORDS))
      lines.push(`"i ${words[Math.floor(rnd() * words.length)]} this movie ${i % 7}",${label}`);
  await writeFile(join(dir, name), lines.join('\n') + '\n');
  return join(dir, name);
}

const graftCode = (code: string, pattern: RegExp) => (e: unknown) =>
  isGraftError(e) && e.code === code && pattern.test(e.message);

describe('trainTextClassifier', () => {
  test('features: encoder + pooling + head in one model.onnx, graft.json inputs, predict = raw session', async () => {
    await using tmp = await tempDir();
    const long = `"${'good '.repeat(12800)}",happy`; // 100× maxSeqLength (128) tokens
    const data = await csv(tmp.dir, 30, 'data.csv', ['"",happy', '"   ",sad', long]);
    for (const head of ['linear', 'knn'] as const) {
      const out = join(tmp.dir, head);
      const r = await trainTextClassifier({
        data,
        model: BERT_SOURCE,
        method: 'features',
        head,
        pooling: 'mean',
        cacheDir: false,
        threads: 2,
        args: { outputDir: out, numTrainEpochs: 30, seed: 1 },
      });
      assert.equal(r.method, 'features');
      assert.ok(r.evaluation.accuracy >= 0.75, `${head}: accuracy ${r.evaluation.accuracy}`);
      assert.deepEqual(r.dataWarnings.find((w) => w.code === 'BAD_ROW')?.count, 2);
      assert.equal(r.textWarnings.find((w) => w.code === 'TRUNCATED')?.count, 1);
      const manifest = JSON.parse(await readFile(join(out, 'graft.json'), 'utf8'));
      assert.deepEqual(manifest.inputs, ['input_ids', 'attention_mask', 'token_type_ids']);
      assert.equal(manifest.preprocess.kind, 'text');
      assert.equal(manifest.preprocess.pooling, 'mean');
      const texts = ['i love this movie', 'i hate this movie', '', 'good '.repeat(12800)];
      const clf = await Classifier.load(out);
      const probs = await clf.predictProbs(texts.map((text) => ({ text })));
      const batch = encodeTexts(await loadTokenizer(out), texts, { maxLength: 128 });
      const session = await ort.InferenceSession.create(join(out, 'model.onnx'));
      const feeds = Object.fromEntries(
        manifest.inputs.map((n: 'input_ids') => [
          n,
          new ort.Tensor('int64', batch[n].data, [...batch[n].shape]),
        ]),
      );
      const raw = (await session.run(feeds))['probabilities']!.data as Float32Array;
      assert.ok(maxAbsDiff(probs, raw) <= 1e-5);
      assert.deepEqual(
        (await clf.predict([{ text: 'i love this movie' }, { text: 'i hate this movie' }])).map(
          (p) => p.label,
        ),
        ['happy', 'sad'],
      );
      await clf.release();
      await session.release();
    }
  });

  test('features: an MLP head trains with the feature-head defaults, not the fine-tuning ones', async () => {
    await using tmp = await tempDir();
    const data = await csv(tmp.dir, 100);
    const r = await trainTextClassifier({
      data,
      model: BERT_SOURCE,
      method: 'features',
      head: 'mlp',
      pooling: 'cls',
      testSplit: 0.3,
      cacheDir: false,
      threads: 2,
      args: { outputDir: join(tmp.dir, 'mlp'), seed: 1 },
    });
    // The feature-head defaults (up to 60 epochs, early stopping on the evaluation split), not the fine-tuning
    // ones (3 epochs at 5e-5, under which an MLP head was reported at chance on a keyword set like this one).
    assert.ok((r.history?.epochs.length ?? 0) > 3, `epochs run: ${r.history?.epochs.length}`);
    assert.equal(r.evaluatedOn, 'test');
    // 30% of 200 held out, give or take: identical texts (this generator repeats some) stay on one side of the split
    assert.equal(r.evaluation.n, r.counts.test);
    assert.ok(Math.abs(r.evaluation.n - 60) <= 4, `held out ${r.evaluation.n}`);
    assert.ok(r.evaluation.accuracy >= 0.9, `mlp: accuracy ${r.evaluation.accuracy}`);
  });

  test("unfreeze 'top:1' trains the last layer, the head and nothing else; setUnfreeze widens it", async () => {
    const encoder = decodeModel(await readFile(join(BERT_DIR, 'onnx', 'model.onnx')));
    const top = trainableEncoderParams(encoder, 'top:1');
    assert.ok(
      top.length >= 12 && top.every((n) => !n.startsWith('layers.0') && !n.startsWith('word')),
      top.join(),
    );
    assert.ok(top.includes('layers.1.ln2.weight'));
    assert.equal(trainableEncoderParams(encoder, 'all').length, encoder.graph.initializers.size);
    const model = await SequenceClassifier.create(encoder, {
      numClasses: 2,
      unfreeze: 'top:1',
      session: { threads: 2 },
    });
    assert.deepEqual(
      [...model.params.keys()].sort(),
      [...top, 'head/dense0/bias', 'head/dense0/weight'].sort(),
    );
    // images' spelling, 'last:N', names the same layers, so one recipe's phases serve both
    assert.deepEqual(trainableEncoderParams(encoder, 'last:1'), top);
    // changing what trains keeps the values trained so far, and the head
    model.params.get('head/dense0/bias')!.fill(0.5);
    const trained = model.params.get('layers.1.ln2.weight')!;
    trained.fill(3);
    await model.setUnfreeze('all');
    assert.equal(model.params.size, trainableEncoderParams(encoder, 'all').length + 2);
    assert.equal(model.params.get('layers.1.ln2.weight'), trained);
    assert.deepEqual([...model.params.get('head/dense0/bias')!], [0.5, 0.5]);
    const initial = encoder.graph.initializers.get('layers.0.ln2.weight')!.data as Float32Array;
    assert.deepEqual([...model.params.get('layers.0.ln2.weight')!], [...initial]);
    await model.release();
    await assert.rejects(
      SequenceClassifier.create(encoder, { numClasses: 2, unfreeze: 'top:3' }),
      graftCode('BAD_OPTION', /only 2 layers/),
    );
  });

  test('bad input: label column, unknown eval label, tokenizer/vocab mismatch, argument conflicts', async () => {
    await using tmp = await tempDir();
    const outputDir = join(tmp.dir, 'out');
    const noLabel = join(tmp.dir, 'nolabel.csv');
    await writeFile(noLabel, 'text,category\n"i love it",happy\n');
    await assert.rejects(
      trainTextClassifier({ data: noLabel, model: BERT_SOURCE, args: { outputDir } }),
      graftCode('BAD_INPUT', /needs a 'label' column/),
    );
    const data = await csv(tmp.dir, 10);
    const evalData = join(tmp.dir, 'eval.csv');
    await writeFile(evalData, 'text,label\n"i love it",happy\n"meh",neutral\n');
    await assert.rejects(
      trainTextClassifier({ data, evalData, model: BERT_SOURCE, args: { outputDir } }),
      graftCode('BAD_INPUT', /label 'neutral'.*happy, sad/),
    );
    // a tokenizer with more tokens than the model's embedding rows
    const broken = join(tmp.dir, 'broken-bert');
    await cp(BERT_DIR, broken, { recursive: true });
    const tj = JSON.parse(await readFile(join(broken, 'tokenizer.json'), 'utf8'));
    for (let i = 0; i < 50; i++) tj.model.vocab[`extra${i}`] = 478 + i;
    await writeFile(join(broken, 'tokenizer.json'), JSON.stringify(tj));
    await assert.rejects(
      trainTextClassifier({ data, model: `file:${broken}`, args: { outputDir } }),
      graftCode('CORRUPT_MODEL', /528 tokens but the model's word embedding has 478 rows/),
    );
    await assert.rejects(
      trainTextClassifier({ data, model: BERT_SOURCE, args: { outputDir, loadBestModelAtEnd: true } }),
      graftCode('BAD_OPTION', /evaluationStrategy and saveStrategy/),
    );
    await assert.rejects(
      trainTextClassifier({
        data,
        model: BERT_SOURCE,
        args: {
          outputDir,
          evaluationStrategy: 'steps',
          evalSteps: 3,
          saveSteps: 10,
          loadBestModelAtEnd: true,
        },
      }),
      graftCode('BAD_OPTION', /multiple of evalSteps/),
    );
    await assert.rejects(
      trainTextClassifier({ data, model: BERT_SOURCE, args: { outputDir, maxSeqLength: 0 } }),
      graftCode('BAD_OPTION', /maxSeqLength/),
    );
  });
});
