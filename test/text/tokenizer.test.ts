import assert from 'node:assert/strict';
import { readFile, writeFile, copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isGraftError } from '../../src/errors.js';
import { encodeTexts } from '../../src/text/encode.js';
import { checkVocab, loadTextEncoder } from '../../src/text/encoder.js';
import { loadTokenizer } from '../../src/text/tokenizer.js';
import { decodeUtf8 } from '../../src/text/warnings.js';
import { BERT_DIR, reference, tempDir } from './helpers.js';

const ids = (t: { data: BigInt64Array }, row: number, width: number): number[] =>
  [...t.data.subarray(row * width, (row + 1) * width)].map(Number);

describe('tokenizer', () => {
  test('token ids equal the reference WordPiece ids of the fixture script', async () => {
    const tok = await loadTokenizer(BERT_DIR);
    assert.equal(tok.vocabSize, reference.vocab_size);
    for (const s of reference.sentences) {
      const e = tok.tokenizer.encode(s.text);
      assert.deepEqual(e.ids, s.ids, s.text);
      assert.deepEqual(e.tokens, s.tokens, s.text);
    }
    const p = tok.tokenizer.encode(reference.pair.a, {
      text_pair: reference.pair.b,
      return_token_type_ids: true,
    });
    assert.deepEqual(p.ids, reference.pair.ids);
    assert.deepEqual(p.token_type_ids, reference.pair.token_type_ids);
    assert.equal(tok.lowercase, true);
    assert.equal(tok.modelMaxLength, 128);
  });

  test('encodeTexts pads to the longest text with masks, pad id 0 and token types', async () => {
    const tok = await loadTokenizer(BERT_DIR);
    const [a, b] = reference.sentences;
    const batch = encodeTexts(tok, [a!.text, b!.text, 'hello'], { maxLength: 64 });
    const w = Math.max(a!.ids.length, b!.ids.length);
    assert.deepEqual(batch.input_ids.shape, [3, w]);
    assert.equal(batch.input_ids.dtype, 'int64');
    assert.deepEqual(ids(batch.input_ids, 0, w).slice(0, a!.ids.length), a!.ids);
    const hello = ids(batch.input_ids, 2, w);
    assert.deepEqual(hello.slice(0, 3), tok.tokenizer.encode('hello').ids);
    assert.ok(hello.slice(3).every((x) => x === 0));
    assert.deepEqual(ids(batch.attention_mask, 2, w), [1, 1, 1, ...new Array(w - 3).fill(0)]);
    assert.ok([...batch.token_type_ids.data].every((x) => x === 0n));
    assert.deepEqual(batch.lengths, [a!.ids.length, b!.ids.length, 3]);
    const fixed = encodeTexts(tok, ['hello'], { maxLength: 16, padding: 'max_length' });
    assert.deepEqual(fixed.input_ids.shape, [1, 16]);
  });

  test('empty and whitespace-only texts encode to [CLS] [SEP]', async () => {
    const tok = await loadTokenizer(BERT_DIR);
    const batch = encodeTexts(tok, ['', '   \n\t '], { maxLength: 8 });
    assert.deepEqual(batch.input_ids.shape, [2, 2]);
    assert.deepEqual([...batch.input_ids.data].map(Number), [2, 3, 2, 3]);
  });

  test('a text 100x longer than maxLength is truncated, keeping [CLS] … [SEP]', async () => {
    const tok = await loadTokenizer(BERT_DIR);
    const long = 'the quick brown fox '.repeat(400); // 1600 words
    const batch = encodeTexts(tok, [long, 'hi there'], { maxLength: 16 });
    assert.deepEqual(batch.input_ids.shape, [2, 16]);
    const row = ids(batch.input_ids, 0, 16);
    assert.deepEqual(row, tok.tokenizer.encode(long).ids.slice(0, 15).concat([3]));
    assert.deepEqual(batch.truncated, [0]);
    assert.throws(
      () => encodeTexts(tok, ['x'], { maxLength: 0 }),
      (e) => isGraftError(e, 'BAD_OPTION'),
    );
  });

  test('non-UTF-8 bytes become U+FFFD and are counted', () => {
    const bytes = Buffer.concat([
      Buffer.from('text,label\ncaf'),
      Buffer.from([0xe9, 0xff]),
      Buffer.from(',a\n'),
    ]);
    const { text, invalid } = decodeUtf8(bytes);
    assert.equal(invalid, 2);
    assert.ok(text.includes('caf\uFFFD\uFFFD,a'));
    assert.deepEqual(decodeUtf8(Buffer.from('ok \uFFFD')), { text: 'ok \uFFFD', invalid: 0 });
  });

  test('tokenizer vocab larger than the embedding table is CORRUPT_MODEL naming both sizes', async () => {
    await using tmp = await tempDir();
    await mkdir(join(tmp.dir, 'onnx'));
    await copyFile(join(BERT_DIR, 'onnx', 'model.onnx'), join(tmp.dir, 'onnx', 'model.onnx'));
    await copyFile(join(BERT_DIR, 'tokenizer_config.json'), join(tmp.dir, 'tokenizer_config.json'));
    const json = JSON.parse(await readFile(join(BERT_DIR, 'tokenizer.json'), 'utf8')) as {
      model: { vocab: Record<string, number> };
    };
    for (let i = 0; i < 22; i++) json.model.vocab[`extra${i}`] = reference.vocab_size + i;
    await writeFile(join(tmp.dir, 'tokenizer.json'), JSON.stringify(json));
    await assert.rejects(loadTextEncoder(`file:${tmp.dir}`), (e) => {
      assert.ok(isGraftError(e, 'CORRUPT_MODEL'));
      assert.match(e.message, new RegExp(`${reference.vocab_size + 22}.*${reference.vocab_size}`));
      return true;
    });
    const tok = await loadTokenizer(BERT_DIR);
    assert.doesNotThrow(() => checkVocab(tok, reference.vocab_size, 'x'));
    assert.doesNotThrow(() => checkVocab(tok, undefined, 'x'));
  });

  test('a missing or broken tokenizer.json is reported', async () => {
    await using tmp = await tempDir();
    await assert.rejects(loadTokenizer(tmp.dir), (e) => isGraftError(e, 'MODEL_NOT_FOUND'));
    await writeFile(join(tmp.dir, 'tokenizer.json'), '{not json');
    await assert.rejects(loadTokenizer(tmp.dir), (e) => isGraftError(e, 'CORRUPT_MODEL'));
  });
});
