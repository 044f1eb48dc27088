/** The tf-idf vectoriser against scikit-learn's TfidfVectorizer (test/fixtures/sklearn/make_tfidf.py). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { analyze } from '../../src/text/tfidf/analyze.js';
import { tfidfFeatures } from '../../src/text/tfidf/features.js';
import { fitTfidf, TfidfVectorizer, type TfidfOptions } from '../../src/text/tfidf/vectorizer.js';

interface Case {
  name: string;
  options: Omit<TfidfOptions, 'lowercase' | 'maxFeatures'> & { maxFeatures: number | null };
  vocabulary: string[];
  idf: number[];
  train: number[][];
  test: number[][];
}
const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/sklearn/tfidf.json', import.meta.url), 'utf8'),
) as { train: string[]; test: string[]; cases: Case[] };

function assertRowsClose(actual: Float32Array, expected: number[][], what: string): void {
  const v = expected[0]?.length ?? 0;
  assert.equal(actual.length, expected.length * v, what);
  expected.forEach((row, r) =>
    row.forEach((e, c) =>
      assert.ok(
        Math.abs(actual[r * v + c]! - e) < 2e-6,
        `${what} [${r}, ${c}]: ${actual[r * v + c]} vs ${e}`,
      ),
    ),
  );
}

for (const c of fixture.cases) {
  const options = { ...c.options, maxFeatures: c.options.maxFeatures ?? Number.MAX_SAFE_INTEGER };
  test(`tf-idf '${c.name}' matches scikit-learn: vocabulary, idf, train and unseen rows`, async () => {
    const vec = fitTfidf(fixture.train, options);
    assert.deepEqual(vec.vocabulary, c.vocabulary);
    vec.idf.forEach((x, i) => assert.ok(Math.abs(x - c.idf[i]!) < 1e-6, `idf ${c.vocabulary[i]}`));
    assertRowsClose(vec.transform(fixture.train), c.train, 'transform(train)');
    assertRowsClose(vec.transform(fixture.test), c.test, 'transform(test)');
    // The ONNX weighting graph gives the same rows from term counts.
    const labels = new Int32Array(fixture.test.length);
    assertRowsClose((await tfidfFeatures(vec, fixture.test, labels)).data, c.test, 'graph(test)');
    // tfidf.json round trip.
    const back = TfidfVectorizer.fromJSON(JSON.parse(JSON.stringify(vec.toJSON())));
    assertRowsClose(back.transform(fixture.test), c.test, 'fromJSON');
  });
}

test('analyze: lowercase words of two or more word characters, then bigrams of consecutive words', () => {
  const o = { lowercase: true, ngramRange: [1, 2] as const };
  assert.deepEqual(analyze('A cat, THE dog_2!', o), ['cat', 'the', 'dog_2', 'cat the', 'the dog_2']);
  assert.deepEqual(analyze('x', o), []);
});

test('fitTfidf refuses a vocabulary that min_df empties', () => {
  assert.throws(
    () => fitTfidf(['alpha beta', 'gamma delta'], { minDf: 2 }),
    (e: unknown) => (e as { code?: string }).code === 'BAD_INPUT',
  );
});
