import assert from 'node:assert/strict';
import { lstat, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isGraftError } from '../../src/errors.js';
import { hubDownload, hubSnapshot } from '../../src/sources/hub.js';
import type { ProgressEvent } from '../../src/sources/types.js';
import { hubOptions, listFiles, tempDir } from './helpers.js';
import { sha256, startHub, type TestHub } from './server.js';

const MODEL = 'onnx/model.onnx';
let hub: TestHub;
before(async () => {
  hub = await startHub();
});
after(() => hub.close());

const modelBytes = () => hub.fixture.files.get(MODEL)!;
const repoDir = (cache: string) => join(cache, 'models--graft-test--tiny-model');

describe('hubDownload', () => {
  test('downloads into the huggingface_hub cache layout', async () => {
    hub.faults = {};
    await using tmp = await tempDir();
    const events: ProgressEvent[] = [];
    const path = await hubDownload(
      hub.fixture.repo,
      MODEL,
      hubOptions(hub, tmp.dir, { onProgress: (e) => events.push(e) }),
    );
    const sha = sha256(modelBytes());
    assert.equal(path, join(repoDir(tmp.dir), 'snapshots', hub.fixture.commit, 'onnx', 'model.onnx'));
    assert.equal(sha256(await readFile(path)), sha);
    assert.ok((await lstat(path)).isSymbolicLink(), 'snapshot entry is a symlink to the blob');
    assert.equal(await readlink(path), join('..', '..', '..', 'blobs', sha));
    assert.equal((await readFile(join(repoDir(tmp.dir), 'refs', 'main'), 'utf8')).trim(), hub.fixture.commit);
    assert.deepEqual(await listFiles(join(repoDir(tmp.dir), 'blobs')), [sha]);
    assert.deepEqual(events.at(-1), { file: MODEL, bytes: modelBytes().length, total: modelBytes().length });
  });

  test('second call uses the cache: a HEAD only, no GET', async () => {
    hub.faults = {};
    await using tmp = await tempDir();
    const opts = hubOptions(hub, tmp.dir);
    const first = await hubDownload(hub.fixture.repo, 'config.json', opts);
    const seen = hub.requests.length;
    const second = await hubDownload(hub.fixture.repo, 'config.json', opts);
    assert.equal(second, first);
    assert.deepEqual(
      hub.requests.slice(seen).map((r) => r.method),
      ['HEAD'],
    );
    // Pinned to a commit sha: no request at all.
    const pinned = await hubDownload(hub.fixture.repo, 'config.json', {
      ...opts,
      revision: hub.fixture.commit,
    });
    assert.equal(pinned, first);
    assert.equal(hub.requests.length, seen + 1);
  });

  test('offline mode: cache hit, and a miss names repo, revision and file', async () => {
    hub.faults = {};
    await using tmp = await tempDir();
    const path = await hubDownload(hub.fixture.repo, 'config.json', hubOptions(hub, tmp.dir));
    const seen = hub.requests.length;
    const offline = { ...hubOptions(hub, tmp.dir), env: { HF_HUB_OFFLINE: '1' } };
    assert.equal(await hubDownload(hub.fixture.repo, 'config.json', offline), path);
    await assert.rejects(hubDownload(hub.fixture.repo, 'tokenizer.json', offline), (e) => {
      assert.ok(isGraftError(e, 'OFFLINE_MISSING'));
      assert.match(e.message, /tokenizer\.json/);
      assert.match(e.message, /graft-test\/tiny-model/);
      assert.match(e.message, /'main'/);
      assert.match(e.message, /HF_HUB_OFFLINE/);
      return true;
    });
    assert.equal(hub.requests.length, seen, 'offline mode makes no requests');
  });

  test('404 → MODEL_NOT_FOUND naming repo and file', async () => {
    hub.faults = {};
    await using tmp = await tempDir();
    await assert.rejects(hubDownload(hub.fixture.repo, 'missing.bin', hubOptions(hub, tmp.dir)), (e) => {
      assert.ok(isGraftError(e, 'MODEL_NOT_FOUND'));
      assert.match(e.message, /missing\.bin/);
      assert.match(e.message, /graft-test\/tiny-model/);
      return true;
    });
    hub.faults = { notFound: true };
    await assert.rejects(hubDownload('nobody/nothing', 'config.json', hubOptions(hub, tmp.dir)), (e) => {
      assert.ok(isGraftError(e, 'MODEL_NOT_FOUND'));
      assert.match(e.message, /nobody\/nothing/);
      return true;
    });
    assert.deepEqual(await listFiles(tmp.dir), []);
  });

  test('401 → AUTH_ERROR mentioning HF_TOKEN; succeeds with the token (option or env)', async () => {
    hub.faults = { token: 'hf_secret' };
    await using tmp = await tempDir();
    await assert.rejects(hubDownload(hub.fixture.repo, 'config.json', hubOptions(hub, tmp.dir)), (e) => {
      assert.ok(isGraftError(e, 'AUTH_ERROR'));
      assert.match(e.message, /HF_TOKEN/);
      return true;
    });
    const path = await hubDownload(
      hub.fixture.repo,
      'config.json',
      hubOptions(hub, tmp.dir, { token: 'hf_secret' }),
    );
    assert.deepEqual(await readFile(path), hub.fixture.files.get('config.json'));
    const viaEnv = hubOptions(hub, tmp.dir, { env: { HF_TOKEN: 'hf_secret' }, revision: hub.fixture.commit });
    assert.equal(
      await hubDownload(hub.fixture.repo, 'tokenizer.json', viaEnv),
      join(path, '..', 'tokenizer.json'),
    );
    assert.equal(hub.requests.at(-1)!.auth, 'Bearer hf_secret');
  });

  test('follows a redirect to /cdn/ and keeps the hub metadata of the 302', async () => {
    hub.faults = { redirect: true };
    await using tmp = await tempDir();
    const seen = hub.requests.length;
    const path = await hubDownload(hub.fixture.repo, MODEL, hubOptions(hub, tmp.dir));
    assert.equal(sha256(await readFile(path)), sha256(modelBytes()));
    assert.ok(hub.requests.slice(seen).some((r) => r.method === 'GET' && r.path.startsWith('/cdn/')));
  });

  test('a redirect to another host gets no Authorization header', async () => {
    const port = new URL(hub.endpoint).port;
    hub.faults = { redirect: true, redirectOrigin: `http://localhost:${port}`, token: 'hf_secret' };
    await using tmp = await tempDir();
    const seen = hub.requests.length;
    const path = await hubDownload(hub.fixture.repo, MODEL, hubOptions(hub, tmp.dir, { token: 'hf_secret' }));
    assert.equal(sha256(await readFile(path)), sha256(modelBytes()));
    const mine = hub.requests.slice(seen);
    assert.ok(mine.some((r) => r.path.startsWith('/cdn/')));
    for (const r of mine)
      assert.equal(r.auth, r.path.startsWith('/cdn/') ? undefined : 'Bearer hf_secret', r.path);
  });

  test('HF_ENDPOINT and HF_HUB_CACHE from env', async () => {
    hub.faults = {};
    await using tmp = await tempDir();
    const path = await hubDownload(hub.fixture.repo, 'config.json', {
      env: { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: tmp.dir },
    });
    assert.ok(path.startsWith(repoDir(tmp.dir)));
  });

  test('unreachable hub → NETWORK_ERROR, or the cached copy when there is one', async () => {
    await using tmp = await tempDir();
    const path = await hubDownload(hub.fixture.repo, 'config.json', hubOptions(hub, tmp.dir));
    const dead = { cacheDir: tmp.dir, env: {}, endpoint: 'http://127.0.0.1:9' };
    assert.equal(await hubDownload(hub.fixture.repo, 'config.json', dead), path);
    await assert.rejects(hubDownload(hub.fixture.repo, 'tokenizer.json', dead), (e) =>
      isGraftError(e, 'NETWORK_ERROR'),
    );
  });
});

describe('hubSnapshot', () => {
  test('fetches several files of one commit into one snapshot directory', async () => {
    hub.faults = {};
    await using tmp = await tempDir();
    const files = ['config.json', 'tokenizer.json', MODEL];
    const dir = await hubSnapshot(hub.fixture.repo, files, hubOptions(hub, tmp.dir));
    assert.equal(dir, join(repoDir(tmp.dir), 'snapshots', hub.fixture.commit));
    for (const f of files) assert.deepEqual(await readFile(join(dir, f)), hub.fixture.files.get(f));
    const offline = hubOptions(hub, tmp.dir, { offline: true });
    assert.equal(await hubSnapshot(hub.fixture.repo, files, offline), dir);
  });
});
