/**
 * The modality plugins: one per kind of data, each answering for its own kind (keys, predict inputs, defaults)
 * and refusing the other kind's baselines; a kind without a plugin is a clear error.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isGraftError } from '../../src/errors.js';
import { modality } from '../../src/modalities/index.js';

const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

test('each kind of data has its own plugin; an unknown kind is UNSUPPORTED_OP naming the known ones', () => {
  for (const kind of ['image', 'text']) assert.equal(modality(kind).kind, kind);
  assert.throws(
    () => modality('audio'),
    (e: unknown) => isGraftError(e, 'UNSUPPORTED_OP') && /'audio'.*image, text/.test(e.message),
  );
});

test('input keys are sha256 of a file’s bytes (images) or of the text itself', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'graft-modality-'));
  try {
    const file = join(dir, 'a.png');
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    await writeFile(file, bytes);
    assert.equal(await modality('image').inputKey(file), sha(bytes));
    assert.notEqual(await modality('image').inputKey(file), sha(file));
    assert.equal(await modality('text').inputKey('free money now'), sha('free money now'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('predict inputs: an image example is its source, a text example or argument is { text }', () => {
  const pixels = { width: 1, height: 1, channels: 3, data: new Uint8Array(3) };
  assert.equal(modality('image').exampleInput({ id: 'a', label: 0, source: pixels }), pixels);
  assert.equal(modality('image').argumentInput('cat.jpg'), 'cat.jpg');
  assert.deepEqual(modality('text').exampleInput({ id: 'a', label: 0, source: 'hi' }), { text: 'hi' });
  assert.deepEqual(modality('text').argumentInput('cat.jpg'), { text: 'cat.jpg' });
});

test('defaults: images rank a backbone beside raw pixels and quantize statically; text ranks tf-idf, dynamically', () => {
  assert.deepEqual(modality('image').rankDefaults, ['npm:nsfwjs/mobilenet_v2', 'pixels']);
  assert.equal(modality('image').quantizeMode, 'static');
  assert.deepEqual(modality('text').rankDefaults, ['tfidf']);
  assert.equal(modality('text').quantizeMode, 'dynamic');
});

test("each plugin refuses the other kind's baseline, saying which to use", async () => {
  await assert.rejects(
    modality('image').rankCandidates('tfidf', [], {}),
    (e: unknown) => isGraftError(e, 'BAD_OPTION') && /try pixels/.test(e.message),
  );
  await assert.rejects(
    modality('text').rankCandidates('pixels', [], {}),
    (e: unknown) => isGraftError(e, 'BAD_OPTION') && /try tfidf/.test(e.message),
  );
});

test('a text model refuses images and an image model refuses texts at encoding', async () => {
  const textManifest = { preprocess: { kind: 'text' }, inputs: ['input_ids'] } as never;
  await assert.rejects(
    modality('text').encode([new Uint8Array(4)], textManifest, '.', {}),
    (e: unknown) => isGraftError(e, 'BAD_INPUT') && /pass strings/.test(e.message),
  );
  const imageManifest = { preprocess: { kind: 'image' }, inputs: ['x'] } as never;
  await assert.rejects(
    modality('image').encode([{ text: 'hello' }], imageManifest, '.', {}),
    (e: unknown) => isGraftError(e, 'BAD_INPUT') && /not text/.test(e.message),
  );
});
