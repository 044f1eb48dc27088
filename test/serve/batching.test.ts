import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { GraftServer } from '../../src/serve/app.js';
import {
  call,
  metricValue,
  postImage,
  startServer,
  tempModel,
  testImage,
  type PredictBody,
} from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;

before(async () => {
  const m = await tempModel();
  dir = m.dir;
  cleanup = m.cleanup;
});

after(async () => cleanup());

async function withServer(options: Parameters<typeof startServer>[1], fn: (s: GraftServer) => Promise<void>) {
  const server = await startServer(dir, options);
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

test('16 concurrent requests are batched into fewer session runs, each caller gets its own row', async () => {
  await withServer({ maxWaitMs: 50, maxBatch: 32 }, async (server) => {
    const images = await Promise.all(Array.from({ length: 16 }, (_, i) => testImage(100 + i)));
    const solo = [];
    for (const img of images.slice(0, 4)) solo.push((await postImage(server.url, img)).body);
    const before = await call<string>(`${server.url}/metrics`);
    const runsBefore = metricValue(before.body, 'graft_batch_size_count');
    const results = await Promise.all(images.map((img) => postImage(server.url, img)));
    for (const r of results) assert.equal(r.status, 200);
    // the answers do not depend on which batch a request landed in
    solo.forEach((s: PredictBody, i) => {
      const got = results[i]!.body.predictions[0]!;
      assert.equal(got.label, s.predictions[0]!.label);
      assert.ok(Math.abs(got.probability - s.predictions[0]!.probability) < 1e-6);
    });
    const text = (await call<string>(`${server.url}/metrics`)).body;
    const runs = metricValue(text, 'graft_batch_size_count') - runsBefore;
    const ones = metricValue(text, 'graft_batch_size_bucket', { le: '1' });
    assert.ok(runs < 16, `16 requests took ${runs} runs`);
    assert.ok(metricValue(text, 'graft_batch_size_count') - ones >= 1, 'some batch had more than one row');
    assert.ok(metricValue(text, 'graft_batch_size_sum') >= 20);
    assert.equal(metricValue(text, 'graft_predictions_total'), 20);
  });
});

test('maxBatch caps the rows per run; a multipart request larger than maxBatch is split', async () => {
  await withServer({ maxWaitMs: 20, maxBatch: 4 }, async (server) => {
    const images = await Promise.all(Array.from({ length: 10 }, (_, i) => testImage(200 + i)));
    const results = await Promise.all(images.map((img) => postImage(server.url, img)));
    for (const r of results) assert.equal(r.status, 200);
    const form = new FormData();
    images.forEach((img, i) => form.append('file', new Blob([img], { type: 'image/png' }), `${i}.png`));
    const big = await call<PredictBody>(`${server.url}/predict`, { method: 'POST', body: form });
    assert.equal(big.status, 200);
    assert.equal(big.body.predictions.length, 10);
    big.body.predictions.forEach((p, i) => {
      assert.ok(Math.abs(p.probability - results[i]!.body.predictions[0]!.probability) < 1e-6);
    });
    const text = (await call<string>(`${server.url}/metrics`)).body;
    const count = metricValue(text, 'graft_batch_size_count');
    assert.equal(metricValue(text, 'graft_batch_size_bucket', { le: '4' }), count, 'no run over 4 rows');
  });
});

test('a request still queued at its deadline → 503 TIMEOUT, and it is withdrawn from the batch', async () => {
  await withServer({ maxWaitMs: 400, timeoutMs: 100 }, async (server) => {
    const img = await testImage(7);
    const r = await postImage(server.url, img);
    assert.equal(r.status, 503);
    assert.equal((r.body as unknown as { error: { code: string } }).error.code, 'TIMEOUT');
    await new Promise((res) => setTimeout(res, 500));
    const text = (await call<string>(`${server.url}/metrics`)).body;
    assert.equal(metricValue(text, 'graft_batch_size_count'), 0, 'the timed-out request never ran');
    assert.equal(metricValue(text, 'graft_http_errors_total', { route: '/predict', code: 'TIMEOUT' }), 1);
  });
});
