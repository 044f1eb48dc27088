/**
 * The automatic text search: tf-idf and a frozen encoder × heads, chosen by cross-validation on the training
 * split; an encoder that cannot be had offline is listed as skipped, so text trains with no network.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { mulberry32 } from '../../src/data/random.js';
import { isGraftError } from '../../src/errors.js';
import { trainTextClassifier } from '../../src/pipeline/train-text.js';
import { DEFAULT_TEXT_ENCODER } from '../../src/pipeline/text-auto.js';
import { compareCandidates } from '../../src/strategies/auto-select.js';
import { Classifier } from '../../src/predict/classifier.js';
import '../../src/text/index.js';
import { BERT_SOURCE, tempDir } from './helpers.js';

/**
 * Three classes told apart by one keyword among shared filler words: tf-idf separates them; held-out rows use
 * the same keywords in new sentences.
 */
async function keywordCsv(dir: string, perClass: number): Promise<string> {
  const rnd = mulberry32(11);
  const keywords: Record<string, string[]> = {
    sport: ['goal', 'match', 'team'],
    food: ['pasta', 'bread', 'soup'],
    tech: ['laptop', 'server', 'compiler'],
  };
  const filler = ['the', 'a', 'today', 'we', 'saw', 'some', 'really', 'new', 'old', 'big'];
  const pick = (xs: string[]) => xs[Math.floor(rnd() * xs.length)]!;
  const lines = ['text,label'];
  for (let i = 0; i < perClass; i++)
    for (const [label, words] of Object.entries(keywords)) {
      const sentence = [pick(filler), pick(filler), pick(words), pick(filler), pick(filler)];
      lines.push(`"${sentence.join(' ')}",${label}`);
    }
  const file = join(dir, 'data.csv');
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

describe('text auto search', () => {
  test('offline: the default encoder is skipped with its reason and tf-idf trains and exports', async () => {
    await using tmp = await tempDir();
    const data = await keywordCsv(tmp.dir, 100);
    const out = join(tmp.dir, 'model');
    const r = await trainTextClassifier({
      data,
      model: 'auto',
      valSplit: 0.2,
      testSplit: 0,
      hub: { offline: true, cacheDir: join(tmp.dir, 'empty-hub-cache') },
      cacheDir: false,
      args: { outputDir: out, seed: 3 },
    });
    assert.equal(r.model, 'tfidf');
    const skipped = r.candidates!.filter((c) => c.skipped);
    assert.ok(skipped.length > 0);
    for (const c of skipped) {
      assert.equal(c.model, DEFAULT_TEXT_ENCODER);
      assert.match(c.skipped!, /offline/);
    }
    // 60 held-out rows (20% of 300), three keyword classes: tf-idf separates them.
    assert.equal(r.evaluation.n, 60);
    assert.ok(r.evaluation.accuracy >= 0.9, `accuracy ${r.evaluation.accuracy}`);
    const manifest = JSON.parse(await readFile(join(out, 'graft.json'), 'utf8'));
    assert.equal(manifest.metrics.candidates.length, r.candidates!.length);
    const clf = await Classifier.load(out);
    try {
      const [p] = await clf.predict(['we saw some pasta today']);
      assert.equal(p!.label, 'food');
    } finally {
      await clf.release();
    }
  });

  test('the winner is the best of the decision table over tf-idf and the encoder, every head scored', async () => {
    await using tmp = await tempDir();
    const data = await keywordCsv(tmp.dir, 40);
    const r = await trainTextClassifier({
      data,
      model: 'auto',
      encoder: BERT_SOURCE,
      cacheDir: false,
      threads: 2,
      export: false,
      args: { outputDir: join(tmp.dir, 'model'), seed: 5 },
    });
    const scored = r.candidates!.filter((c) => !c.skipped);
    assert.deepEqual(new Set(scored.map((c) => c.model)), new Set(['tfidf', BERT_SOURCE]));
    // 40 per class < 20 per class is false: the MLP is tried too, on the best features.
    for (const head of ['linear', 'knn', 'ncm'])
      assert.equal(scored.filter((c) => c.head === head).length, 2, head);
    const best = [...scored].sort(compareCandidates)[0]!;
    assert.equal(r.model, best.model);
    assert.equal(r.head, best.head);
    for (const c of scored) assert.ok(c.cvAccuracy >= 0 && c.cvAccuracy <= 1 && c.folds === 5);
  });

  test('a named encoder that cannot be had fails the run; the search cannot be fine-tuned', async () => {
    await using tmp = await tempDir();
    const data = await keywordCsv(tmp.dir, 10);
    await assert.rejects(
      trainTextClassifier({
        data,
        model: 'auto',
        encoder: 'hub:graft-test/absent',
        hub: { offline: true, cacheDir: join(tmp.dir, 'cache') },
        export: false,
        args: { outputDir: join(tmp.dir, 'm') },
      }),
      (e: unknown) => isGraftError(e) && e.code === 'OFFLINE_MISSING',
    );
    await assert.rejects(
      trainTextClassifier({
        data,
        model: 'auto',
        strategy: 'fine-tune',
        export: false,
        args: { outputDir: join(tmp.dir, 'm') },
      }),
      (e: unknown) => isGraftError(e) && e.code === 'BAD_OPTION' && /model 'auto'/.test(e.message),
    );
  });
});
