import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isGraftError } from '../../src/errors.js';
import { Session } from '../../src/runtime/session.js';
import { encodeTexts } from '../../src/text/encode.js';
import { loadTextEncoder, type LoadedTextEncoder } from '../../src/text/encoder.js';
import { TextFeatureExtractor } from '../../src/text/extract.js';
import { startHub, type TestHub } from '../sources/server.js';
import { BERT_SOURCE, bertHubRepo, maxAbsDiff, reference, tempDir } from './helpers.js';

const H = reference.hidden_size;
const texts = reference.sentences.map((s) => s.text);
let hub: TestHub;
let encoder: LoadedTextEncoder;
/** last_hidden_state of the whole reference batch (padded), with its masks. */
let states: { data: Float32Array; T: number; lengths: number[] };

before(async () => {
  hub = await startHub(bertHubRepo());
  encoder = await loadTextEncoder(BERT_SOURCE);
  const session = await Session.create(encoder.model);
  const b = encodeTexts(encoder.tokenizer, texts, { maxLength: 128 });
  const out = await session.run({
    input_ids: b.input_ids,
    attention_mask: b.attention_mask,
    token_type_ids: b.token_type_ids,
  });
  const h = out['last_hidden_state']!;
  states = { data: h.data as Float32Array, T: h.shape[1]!, lengths: b.lengths };
  await session.release();
});
after(() => hub.close());

const token = (i: number, t: number) =>
  states.data.subarray((i * states.T + t) * H, (i * states.T + t + 1) * H);

describe('text encoder', () => {
  test('forward parity with torch: last_hidden_state within 1e-4 (padded batch)', () => {
    assert.equal(encoder.embeddingRows, reference.vocab_size);
    let worst = 0;
    reference.sentences.forEach((s, i) => {
      assert.equal(states.lengths[i], s.ids.length);
      s.hidden_head.forEach((row, t) => {
        const v = token(i, t);
        worst = Math.max(worst, maxAbsDiff(v.subarray(0, reference.head_dims), row));
        worst = Math.max(worst, Math.abs(v.reduce((a, x) => a + x, 0) - s.token_sums[t]!));
      });
    });
    assert.ok(worst <= 1e-4, `max abs error ${worst}`);
  });

  test('pooling CLS / mean / L2 match a hand computation from last_hidden_state', async () => {
    for (const [pooling, normalize] of [
      ['cls', false],
      ['mean', false],
      ['mean', true],
      ['cls', true],
    ] as const) {
      const fx = await TextFeatureExtractor.create(BERT_SOURCE, {
        pooling,
        normalize,
        cacheDir: false,
        batchSize: 4,
      });
      assert.equal(fx.dim, H);
      const got = await fx.embed(texts);
      await fx.release();
      texts.forEach((_, i) => {
        const want = new Float64Array(H);
        if (pooling === 'cls') want.set(token(i, 0));
        else {
          for (let t = 0; t < states.lengths[i]!; t++)
            token(i, t).forEach((x, d) => (want[d] = want[d]! + x));
          want.forEach((x, d) => (want[d] = x / states.lengths[i]!));
        }
        if (normalize) {
          const norm = Math.sqrt(want.reduce((a, x) => a + x * x, 0));
          want.forEach((x, d) => (want[d] = x / norm));
        }
        const err = maxAbsDiff(got.subarray(i * H, (i + 1) * H), want);
        assert.ok(err < 1e-5, `${pooling}${normalize ? '+l2' : ''} row ${i}: ${err}`);
      });
    }
  });

  test('loads via hub: from the test server (only the needed files) and matches file:', async () => {
    await using tmp = await tempDir();
    const fromHub = await loadTextEncoder('hub:graft-test/tiny-bert', {
      hub: { endpoint: hub.endpoint, cacheDir: tmp.dir, env: {} },
    });
    assert.equal(fromHub.modelHash, encoder.modelHash);
    assert.equal(fromHub.tokenizer.hash, encoder.tokenizer.hash);
    assert.ok(fromHub.dir.startsWith(tmp.dir));
    const fx = await TextFeatureExtractor.fromEncoder(fromHub, { cacheDir: false });
    const a = await fx.embed(texts.slice(0, 2));
    await fx.release();
    assert.ok(maxAbsDiff(a.subarray(0, H), token(0, 0)) < 1e-5);
    await assert.rejects(
      loadTextEncoder('hub:graft-test/missing', {
        hub: { endpoint: hub.endpoint, cacheDir: tmp.dir, env: {} },
      }),
      (e) => isGraftError(e, 'MODEL_NOT_FOUND'),
    );
    await assert.rejects(loadTextEncoder('npm:nsfwjs'), (e) => isGraftError(e, 'BAD_INPUT'));
  });

  test('feature cache: the second run is served from the cache; bad texts are warned about, not fatal', async () => {
    await using tmp = await tempDir();
    const bad = ['', '   ', 'caf\uFFFD menu', 'the lazy dog '.repeat(300)];
    const examples = [...texts, ...bad].map((t, i) => ({ id: `r${i}`, label: i % 2, source: t }));
    const run = async () => {
      const fx = await TextFeatureExtractor.create(BERT_SOURCE, {
        pooling: 'mean',
        cacheDir: tmp.dir,
        maxLength: 32,
      });
      const set = await fx.extract(examples);
      await fx.release();
      return set;
    };
    const first = await run();
    assert.equal(first.extracted, examples.length);
    assert.equal(first.fromCache, 0);
    const codes = Object.fromEntries(first.warnings.map((w) => [w.code, w.count]));
    assert.deepEqual(codes, { EMPTY_TEXT: 2, INVALID_UTF8: 1, TRUNCATED: 1 });
    const second = await run();
    assert.equal(second.fromCache, examples.length);
    assert.equal(second.extracted, 0);
    assert.deepEqual(second.matrices[0], first.matrices[0]);
    assert.deepEqual([...second.labels], [...first.labels]);
    assert.ok(first.matrices[0]!.every(Number.isFinite));
    // A different pooling is a different cache.
    const fx = await TextFeatureExtractor.create(BERT_SOURCE, {
      pooling: 'cls',
      cacheDir: tmp.dir,
      maxLength: 32,
    });
    assert.equal((await fx.extract(examples)).fromCache, 0);
    await fx.release();
  });
});
