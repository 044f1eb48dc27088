import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Classifier } from '../../src/predict/classifier.js';
import type { GraftServer } from '../../src/serve/app.js';
import { FIXTURE_LABELS } from './fixture-model.js';
import { call, postImage, startServer, tempModel, testImage, type PredictBody } from './helpers.js';

let server: GraftServer;
let clf: Classifier;
let cleanup: () => Promise<void>;
const images: Uint8Array<ArrayBuffer>[] = [];

before(async () => {
  const m = await tempModel();
  cleanup = m.cleanup;
  server = await startServer(m.dir);
  clf = await Classifier.load(m.dir, { threads: 1 });
  for (let i = 0; i < 4; i++)
    images.push(await testImage(i + 1, i % 2 ? 'jpeg' : 'png', 10 + 3 * i, 9 + 2 * i));
});

after(async () => {
  await server.close();
  await clf.release();
  await cleanup();
});

/** Every probability in the response equals Classifier.predict's within 1e-6, labels and order included. */
async function assertMatchesClassifier(body: PredictBody, inputs: Uint8Array[], k: number): Promise<void> {
  const want = await clf.predict(inputs, { topK: k });
  assert.equal(body.predictions.length, want.length);
  body.predictions.forEach((p, i) => {
    assert.equal(p.label, want[i]!.label);
    assert.ok(Math.abs(p.probability - want[i]!.probability) < 1e-6);
    assert.equal(p.top.length, k);
    p.top.forEach((s, j) => {
      assert.equal(s.label, want[i]!.top[j]!.label);
      assert.ok(Math.abs(s.probability - want[i]!.top[j]!.probability) < 1e-6, `image ${i} rank ${j}`);
    });
  });
}

test('binds 127.0.0.1 by default and answers /health', async () => {
  assert.equal(server.host, '127.0.0.1');
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const r = await call<{ status: string }>(`${server.url}/health`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { status: 'ok' });
});

test('raw PNG and JPEG bytes (image/*, application/octet-stream) match Classifier.predict', async () => {
  for (const [i, type] of ['image/png', 'image/jpeg', 'application/octet-stream'].entries()) {
    const img = images[i]!;
    const r = await postImage(server.url, img, type);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.model, 'model');
    await assertMatchesClassifier(r.body, [img], 1);
  }
});

test('?top=k returns the k most probable classes (clamped to the label count)', async () => {
  const r = await call<PredictBody>(`${server.url}/predict?top=2`, {
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: images[0]!,
  });
  assert.equal(r.status, 200);
  await assertMatchesClassifier(r.body, [images[0]!], 2);
  const all = await call<PredictBody>(`${server.url}/predict?top=99`, {
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: images[0]!,
  });
  assert.equal(all.body.predictions[0]!.top.length, FIXTURE_LABELS.length);
  const sum = all.body.predictions[0]!.top.reduce((s, x) => s + x.probability, 0);
  assert.ok(Math.abs(sum - 1) < 1e-5);
});

test('multipart/form-data with 3 files answers 3 predictions in order', async () => {
  const form = new FormData();
  const three = images.slice(0, 3);
  three.forEach((img, i) => form.append('file', new Blob([img], { type: 'image/png' }), `img${i}.png`));
  const r = await call<PredictBody>(`${server.url}/predict?top=3`, { method: 'POST', body: form });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await assertMatchesClassifier(r.body, three, 3);
});

test('JSON {"images": [base64, …]} (and a data: URL) match Classifier.predict', async () => {
  const b64 = images.map((img) => Buffer.from(img).toString('base64'));
  b64[1] = `data:image/jpeg;base64,${b64[1]}`;
  const r = await call<PredictBody>(`${server.url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ images: b64 }),
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await assertMatchesClassifier(r.body, images, 1);
});

test('GET /info reports labels, base model, input spec and output', async () => {
  const r = await call<Record<string, unknown>>(`${server.url}/info`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body['labels'], FIXTURE_LABELS);
  assert.deepEqual(r.body['base'], { id: 'fixture/tiny', sha256: '0'.repeat(64) });
  assert.deepEqual(r.body['inputs'], [{ name: 'input', dtype: 'float32', shape: ['batch', 8, 8, 3] }]);
  assert.deepEqual(r.body['output'], { name: 'probabilities', shape: ['batch', 3] });
  const pre = r.body['preprocess'] as { size: number[]; layout: string };
  assert.deepEqual(pre.size, [8, 8]);
  assert.equal(pre.layout, 'NHWC');
  assert.equal(r.body['task'], 'image-classification');
  assert.match(String(r.body['sha256']), /^[0-9a-f]{64}$/);
});
