import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isGraftError } from '../../src/errors.js';
import { hubDownload } from '../../src/sources/hub.js';
import { hubOptions, listFiles, tempDir } from './helpers.js';
import { sha256, startHub, type TestHub } from './server.js';

const MODEL = 'onnx/model.onnx';
let hub: TestHub;
before(async () => {
  hub = await startHub();
});
after(() => hub.close());

const model = () => hub.fixture.files.get(MODEL)!;
const blobs = (cache: string) => join(cache, 'models--graft-test--tiny-model', 'blobs');

/** Nothing in the cache may look like a whole file: no blob, no snapshot entry. */
async function assertNothingWhole(cache: string) {
  const files = await listFiles(cache);
  assert.ok(!files.some((f) => f.includes('snapshots')), `no snapshot entry: ${files.join(', ')}`);
  const whole = files.filter((f) => f.includes('blobs') && !f.endsWith('.incomplete'));
  assert.deepEqual(whole, [], 'no finished blob, no lock left behind');
}

test('a cut transfer → NETWORK_ERROR, partial kept; the retry resumes with Range and verifies', async () => {
  hub.faults = { cut: 1 };
  await using tmp = await tempDir();
  const opts = hubOptions(hub, tmp.dir);
  await assert.rejects(hubDownload(hub.fixture.repo, MODEL, opts), (e) => isGraftError(e, 'NETWORK_ERROR'));
  await assertNothingWhole(tmp.dir);
  const partial = join(blobs(tmp.dir), `${sha256(model())}.incomplete`);
  const partialSize = (await stat(partial)).size;
  assert.ok(partialSize > 0 && partialSize < model().length, `partial has ${partialSize} bytes`);

  const seen = hub.requests.length;
  const path = await hubDownload(hub.fixture.repo, MODEL, opts);
  assert.equal(sha256(await readFile(path)), sha256(model()));
  const gets = hub.requests.slice(seen).filter((r) => r.method === 'GET');
  assert.deepEqual(
    gets.map((r) => r.range),
    [`bytes=${partialSize}-`],
  );
  assert.deepEqual(await listFiles(blobs(tmp.dir)), [sha256(model())]);
});

test('a cut transfer through a redirect resumes too', async () => {
  hub.faults = { cut: 1, redirect: true };
  await using tmp = await tempDir();
  const opts = hubOptions(hub, tmp.dir);
  await assert.rejects(hubDownload(hub.fixture.repo, MODEL, opts), (e) => isGraftError(e, 'NETWORK_ERROR'));
  const seen = hub.requests.length;
  const path = await hubDownload(hub.fixture.repo, MODEL, opts);
  assert.equal(sha256(await readFile(path)), sha256(model()));
  assert.ok(
    hub.requests.slice(seen).some((r) => r.path.startsWith('/cdn/') && r.range?.startsWith('bytes=')),
  );
});

test('a server that ignores Range answers 200: the download starts over and is still right', async () => {
  hub.faults = { cut: 1 };
  await using tmp = await tempDir();
  const opts = hubOptions(hub, tmp.dir);
  await assert.rejects(hubDownload(hub.fixture.repo, MODEL, opts), (e) => isGraftError(e, 'NETWORK_ERROR'));
  hub.faults = { ignoreRange: true };
  const seen = hub.requests.length;
  const path = await hubDownload(hub.fixture.repo, MODEL, opts);
  assert.ok(
    hub.requests.slice(seen).some((r) => r.range !== undefined),
    'a Range was asked for',
  );
  assert.equal(sha256(await readFile(path)), sha256(model()));
  assert.equal((await stat(path)).size, model().length);
});

test('checksum mismatch → CHECKSUM_MISMATCH, partial deleted, nothing whole-looking left', async () => {
  hub.faults = { wrongChecksum: true };
  await using tmp = await tempDir();
  const opts = hubOptions(hub, tmp.dir);
  await assert.rejects(hubDownload(hub.fixture.repo, MODEL, opts), (e) => {
    assert.ok(isGraftError(e, 'CHECKSUM_MISMATCH'));
    assert.match(e.message, /sha256/);
    return true;
  });
  await assertNothingWhole(tmp.dir);
  assert.deepEqual(await listFiles(blobs(tmp.dir)), [], 'the bad partial is deleted');
  hub.faults = {};
  const path = await hubDownload(hub.fixture.repo, MODEL, opts);
  assert.equal(sha256(await readFile(path)), sha256(model()));
});

test('progress reports resumed bytes and the total', async () => {
  hub.faults = { cut: 1 };
  await using tmp = await tempDir();
  await assert.rejects(hubDownload(hub.fixture.repo, MODEL, hubOptions(hub, tmp.dir)));
  const events: number[] = [];
  await hubDownload(
    hub.fixture.repo,
    MODEL,
    hubOptions(hub, tmp.dir, { onProgress: (e) => events.push(e.bytes) }),
  );
  assert.ok(events[0]! > 0, 'first event starts at the resumed offset');
  assert.equal(events.at(-1), model().length);
});

test('an aborted download → CANCELLED, the partial kept for resume', async () => {
  hub.faults = { throttleMs: 20 };
  await using tmp = await tempDir();
  const ac = new AbortController();
  const opts = hubOptions(hub, tmp.dir, {
    signal: ac.signal,
    onProgress: (e) => {
      if (e.bytes > 64 * 1024) ac.abort();
    },
  });
  await assert.rejects(hubDownload(hub.fixture.repo, MODEL, opts), (e) => isGraftError(e, 'CANCELLED'));
  await assertNothingWhole(tmp.dir);
  hub.faults = {};
  const path = await hubDownload(hub.fixture.repo, MODEL, hubOptions(hub, tmp.dir));
  assert.equal(sha256(await readFile(path)), sha256(model()));
});
