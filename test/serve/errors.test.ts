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
  type ErrorResponseBody,
  type PredictBody,
} from './helpers.js';

let server: GraftServer;
let cleanup: () => Promise<void>;
let good: Uint8Array<ArrayBuffer>;

before(async () => {
  const m = await tempModel();
  cleanup = m.cleanup;
  server = await startServer(m.dir, { bodyLimit: '8kb' });
  good = await testImage(3, 'png');
});

after(async () => {
  await server.close();
  await cleanup();
});

const post = (body: BodyInit | undefined, type?: string, path = '/predict') =>
  call<ErrorResponseBody>(`${server.url}${path}`, {
    method: 'POST',
    ...(type ? { headers: { 'content-type': type } } : {}),
    ...(body !== undefined ? { body } : {}),
  });

/** Each malformed request gets `status` and a JSON `{error: {code, message}}`; a good request still works after. */
async function expectError(
  what: string,
  send: () => Promise<{ status: number; body: ErrorResponseBody; contentType: string }>,
  status: number,
  code: string | RegExp,
): Promise<void> {
  const r = await send();
  assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
  assert.match(r.contentType, /application\/json/, what);
  assert.equal(typeof r.body.error?.message, 'string', what);
  assert.ok(r.body.error.message.length > 0, what);
  if (typeof code === 'string') assert.equal(r.body.error.code, code, what);
  else assert.match(r.body.error.code, code, what);
  const ok = await postImage(server.url, good);
  assert.equal(ok.status, 200, `good request after ${what}`);
  assert.equal((ok.body as PredictBody).predictions.length, 1);
}

test('bytes that are not an image → 400 BAD_INPUT', async () => {
  await expectError(
    'text as image/png',
    () => post(new TextEncoder().encode('hello, not a png'), 'image/png'),
    400,
    'BAD_INPUT',
  );
  await expectError(
    'zeros as octet-stream',
    () => post(new Uint8Array(300), 'application/octet-stream'),
    400,
    'BAD_INPUT',
  );
});

test('truncated PNG and JPEG → 400 BAD_INPUT', async () => {
  const jpeg = await testImage(4, 'jpeg', 64, 48);
  await expectError('half a PNG', () => post(good.slice(0, good.length >> 1), 'image/png'), 400, 'BAD_INPUT');
  await expectError(
    'half a JPEG',
    () => post(jpeg.slice(0, jpeg.length >> 1), 'image/jpeg'),
    400,
    'BAD_INPUT',
  );
});

test('empty bodies → 400 EMPTY_BODY', async () => {
  await expectError('empty image/png', () => post(new Uint8Array(0), 'image/png'), 400, 'EMPTY_BODY');
  await expectError('empty JSON', () => post('', 'application/json'), 400, 'EMPTY_BODY');
  await expectError('no body, no type', () => post(undefined), 415, 'UNSUPPORTED_MEDIA_TYPE');
  await expectError(
    'empty base64',
    () => post(JSON.stringify({ images: [''] }), 'application/json'),
    400,
    'EMPTY_BODY',
  );
});

test('a body over the limit → 413 PAYLOAD_TOO_LARGE (raw, base64 JSON and multipart)', async () => {
  const big = new Uint8Array(20 * 1024);
  await expectError('20 kB raw', () => post(big, 'image/png'), 413, 'PAYLOAD_TOO_LARGE');
  const json = JSON.stringify({ images: [Buffer.from(big).toString('base64')] });
  await expectError('20 kB JSON', () => post(json, 'application/json'), 413, 'PAYLOAD_TOO_LARGE');
  const form = new FormData();
  form.append('file', new Blob([big], { type: 'image/png' }), 'big.png');
  await expectError('20 kB multipart', () => post(form), 413, 'PAYLOAD_TOO_LARGE');
});

test('wrong content types → 415 UNSUPPORTED_MEDIA_TYPE', async () => {
  await expectError('text/plain', () => post('hello', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE');
  await expectError('application/xml', () => post('<a/>', 'application/xml'), 415, 'UNSUPPORTED_MEDIA_TYPE');
});

test('JSON without text or images, bad JSON, bad base64, text to an image model → 400', async () => {
  const json = (v: unknown) => post(JSON.stringify(v), 'application/json');
  await expectError('{}', () => json({ foo: 1 }), 400, 'BAD_INPUT');
  await expectError('array', () => json([1, 2]), 400, 'BAD_INPUT');
  await expectError('text: number', () => json({ text: 5 }), 400, 'BAD_INPUT');
  await expectError('texts: []', () => json({ texts: [] }), 400, 'BAD_INPUT');
  await expectError('images: string', () => json({ images: 'abc' }), 400, 'BAD_INPUT');
  await expectError('bad base64', () => json({ images: ['***'] }), 400, 'BAD_INPUT');
  await expectError('broken JSON', () => post('{"images": [', 'application/json'), 400, 'BAD_JSON');
  await expectError('text to an image model', () => json({ text: 'a cat' }), 400, 'BAD_INPUT');
});

test('multipart without files, bad ?top → 400', async () => {
  const form = new FormData();
  form.append('note', 'no files here');
  await expectError('multipart, no files', () => post(form), 400, 'BAD_INPUT');
  const top = () =>
    call<ErrorResponseBody>(`${server.url}/predict?top=zero`, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: good,
    });
  await expectError('?top=zero', top, 400, 'BAD_INPUT');
});

test('unknown routes and methods → 404 NOT_FOUND', async () => {
  await expectError('GET /nope', () => call<ErrorResponseBody>(`${server.url}/nope`), 404, 'NOT_FOUND');
  await expectError('GET /predict', () => call<ErrorResponseBody>(`${server.url}/predict`), 404, 'NOT_FOUND');
});

test('/metrics counts requests by route and status, errors by code, and latencies', async () => {
  const before = await call<string>(`${server.url}/metrics`);
  assert.equal(before.status, 200);
  assert.match(before.contentType, /^text\/plain; version=0\.0\.4/);
  const ok = { route: '/predict', method: 'POST', status: '200' };
  const bad = { route: '/predict', method: 'POST', status: '400' };
  const n200 = metricValue(before.body, 'graft_http_requests_total', ok);
  const n400 = metricValue(before.body, 'graft_http_requests_total', bad);
  const nErr = metricValue(before.body, 'graft_http_errors_total', { route: '/predict', code: 'BAD_INPUT' });
  const nLat = metricValue(before.body, 'graft_http_request_duration_seconds_count');
  await postImage(server.url, good);
  await postImage(server.url, good);
  await post(new Uint8Array(10), 'image/png');
  await call(`${server.url}/missing`);
  const afterText = (await call<string>(`${server.url}/metrics`)).body;
  assert.equal(metricValue(afterText, 'graft_http_requests_total', ok), n200 + 2);
  assert.equal(metricValue(afterText, 'graft_http_requests_total', bad), n400 + 1);
  assert.equal(
    metricValue(afterText, 'graft_http_errors_total', { route: '/predict', code: 'BAD_INPUT' }),
    nErr + 1,
  );
  assert.ok(
    metricValue(afterText, 'graft_http_errors_total', { route: 'unmatched', code: 'NOT_FOUND' }) >= 1,
  );
  assert.ok(metricValue(afterText, 'graft_http_request_duration_seconds_count') >= nLat + 4);
  assert.equal(metricValue(afterText, 'graft_http_requests_in_flight'), 1, 'the /metrics request itself');
  assert.match(afterText, /# TYPE graft_http_request_duration_seconds histogram/);
  assert.match(afterText, /graft_http_request_duration_seconds_bucket\{le="\+Inf"\} \d+/);
  assert.match(afterText, /# TYPE graft_batch_size histogram/);
});
