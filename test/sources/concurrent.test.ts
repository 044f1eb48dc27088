import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { hubOptions, listFiles, tempDir } from './helpers.js';
import { hubDownload } from '../../src/sources/hub.js';
import { makeFixture, sha256, startHub, type TestHub } from './server.js';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./child-download.ts', import.meta.url));
const MODEL = 'onnx/model.onnx';
let hub: TestHub;
before(async () => {
  hub = await startHub(makeFixture('graft-test/tiny-model', 512 * 1024));
});
after(() => hub.close());

async function child(cacheDir: string): Promise<{ path: string; downloaded: boolean }> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', CHILD, hub.endpoint, cacheDir, hub.fixture.repo, MODEL],
    {
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      timeout: 30_000,
    },
  );
  return JSON.parse(stdout) as { path: string; downloaded: boolean };
}

test('two processes downloading the same file at once produce one correct file', async () => {
  // 32 chunks of 16 KiB, 15 ms apart: each transfer takes ~0.5 s, so the two processes overlap.
  hub.faults = { throttleMs: 15 };
  await using tmp = await tempDir();
  const [a, b] = await Promise.all([child(tmp.dir), child(tmp.dir)]);
  assert.equal(a.path, b.path);
  const want = sha256(hub.fixture.files.get(MODEL)!);
  assert.equal(sha256(await readFile(a.path)), want);
  const blobs = join(tmp.dir, 'models--graft-test--tiny-model', 'blobs');
  assert.deepEqual(await listFiles(blobs), [want], 'one blob, no .incomplete or .lock left');
  const gets = hub.requests.filter((r) => r.method === 'GET' && r.path.endsWith(MODEL));
  assert.equal(gets.length, 1, 'the second process waited for the first instead of downloading again');
  assert.equal([a, b].filter((r) => r.downloaded).length, 1);
});

test('a stale lock left by a dead process is broken', async () => {
  hub.faults = {};
  await using tmp = await tempDir();
  const want = sha256(hub.fixture.files.get(MODEL)!);
  const blobs = join(tmp.dir, 'models--graft-test--tiny-model', 'blobs');
  await mkdir(blobs, { recursive: true });
  // A pid that cannot be alive (above the kernel's pid_max).
  await writeFile(join(blobs, `${want}.lock`), JSON.stringify({ pid: 2 ** 30, host: hostname() }));
  const path = await hubDownload(hub.fixture.repo, MODEL, hubOptions(hub, tmp.dir, { lockTimeoutMs: 5000 }));
  assert.equal(sha256(await readFile(path)), want);
  assert.deepEqual(await listFiles(blobs), [want]);
});

test('a live lock that is not refreshed goes stale by mtime', async () => {
  hub.faults = {};
  await using tmp = await tempDir();
  const want = sha256(hub.fixture.files.get(MODEL)!);
  const blobs = join(tmp.dir, 'models--graft-test--tiny-model', 'blobs');
  await mkdir(blobs, { recursive: true });
  await writeFile(join(blobs, `${want}.lock`), JSON.stringify({ pid: process.pid, host: 'another-host' }));
  const opts = hubOptions(hub, tmp.dir, { staleLockMs: 300, lockTimeoutMs: 5000 });
  const path = await hubDownload(hub.fixture.repo, MODEL, opts);
  assert.equal(sha256(await readFile(path)), want);
});
