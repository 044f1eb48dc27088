/**
 * Scale-out through a real Redis (started here): 3 `graft worker` processes extract 600 MNIST digit files and
 * must leave exactly the bytes a single-process `graft extract` leaves; a worker SIGKILLed mid-shard and a
 * Redis restarted mid-run change nothing; batch prediction equals the classifier run locally, in order; and
 * `graft train` on the shared cache runs no forward pass.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isGraftError } from '../../src/errors.js';
import { FeatureCache, sha256, shardDir } from '../../src/features/cache.js';
import { FeatureExtractor, featureCacheDir } from '../../src/features/extract.js';
import { loadBackbone } from '../../src/models/registry.js';
import { trainClassifier } from '../../src/pipeline/train.js';
import { load } from '../../src/predict/classifier.js';
import { extractFeatures, type ExtractRunResult } from '../../src/scale/extract.js';
import type { ShardProgress } from '../../src/scale/backend.js';
import { predictManifest } from '../../src/scale/predict-batch.js';
import { buildFixtureModel } from '../serve/fixture-model.js';
import { digitFiles, tinyBackbone } from './fixtures.js';
import { RedisServer } from './redis-server.js';
import { startWorkerProcess, type WorkerProcess } from './workers.js';

const DIGITS = 600;
let root: string;
let redis: RedisServer;
let model: string;
let manifest: string;
let reference: string;
let workers: WorkerProcess[] = [];

/** Every shard file of one cache: name → bytes. */
function shardFiles(cacheDir: string, key: string): Map<string, Buffer> {
  const dir = shardDir(featureCacheDir(cacheDir), key);
  return new Map(
    readdirSync(dir)
      .filter((n) => n.endsWith('.features'))
      .map((n) => [n, readFileSync(join(dir, n))]),
  );
}

/** The records across a cache's shard files, counted per example key. */
function recordCounts(cacheDir: string, key: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const bytes of shardFiles(cacheDir, key).values()) {
    for (let off = 0; off < bytes.length;) {
      const k = bytes.subarray(off + 4, off + 36).toString('hex');
      counts.set(k, (counts.get(k) ?? 0) + 1);
      off += 44 + bytes.readUInt32LE(off + 36) * 4;
    }
  }
  return counts;
}

/** Same feature bytes for every image as the single-process reference, each image exactly once. */
function assertSameFeatures(cacheDir: string, key: string): void {
  const counts = recordCounts(cacheDir, key);
  assert.equal(counts.size, DIGITS, 'every image once');
  assert.ok(
    [...counts.values()].every((c) => c === 1),
    'no image twice',
  );
  const ours = new FeatureCache(featureCacheDir(cacheDir), key);
  const ref = new FeatureCache(featureCacheDir(reference), key);
  assert.equal(ref.size, DIGITS);
  for (const k of counts.keys())
    assert.ok(Buffer.from(ours.get(k)!.buffer).equals(Buffer.from(ref.get(k)!.buffer)), `features of ${k}`);
  ours.close();
  ref.close();
}

/** The same shard files, byte for byte, as the single-process reference (same shard size). */
function assertSameShards(cacheDir: string, r: ExtractRunResult): void {
  const ours = shardFiles(cacheDir, r.cacheKey);
  const ref = shardFiles(reference, r.cacheKey);
  assert.equal(ours.size, ref.size);
  for (const [name, bytes] of ref) assert.ok(ours.get(name)?.equals(bytes), `shard file ${name} differs`);
  assertSameFeatures(cacheDir, r.cacheKey);
}

const queueRun = (cacheDir: string, onProgress?: (p: ShardProgress) => void, shardSize = 40) =>
  extractFeatures({
    data: manifest,
    model,
    features: 'final',
    queue: redis.url,
    cacheDir,
    shardSize,
    onEvent: (e) => e.type === 'shards' && onProgress?.(e.progress),
  });

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'graft-scale-'));
  redis = await RedisServer.start();
  model = await tinyBackbone(join(root, 'model'));
  manifest = await digitFiles(join(root, 'digits'), DIGITS);
  workers = ['w1', 'w2', 'w3'].map((n) => startWorkerProcess(redis.url, n, ['--lock-duration', '2000']));
  reference = join(root, 'reference');
  // The single-process reference: the same command without --queue.
  await extractFeatures({
    data: manifest,
    model,
    features: 'final',
    cacheDir: reference,
    shardSize: 40,
    threads: 1,
  });
});

after(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await redis?.destroy();
  rmSync(root, { recursive: true, force: true });
});

test(
  '3 workers over 600 images: byte-identical to one process; a second submit adds nothing',
  { timeout: 180_000 },
  async () => {
    const cache = join(root, 'cluster');
    const r = await queueRun(cache);
    assert.equal(r.unique, DIGITS);
    assert.equal(r.extracted, DIGITS);
    assertSameShards(cache, r);
    const busy = workers.filter((w) => w.completedJobs().length > 0).length;
    assert.ok(busy >= 2, `shards were spread over the workers (${busy} did some)`);
    // The features equal those of graft train's own extractor over the same files.
    const backbone = await loadBackbone(model);
    const pre = backbone.spec.preprocess;
    assert.equal(pre.kind, 'image');
    const direct = await FeatureExtractor.create(backbone.model, backbone.spec.inputName, pre, ['features'], {
      cacheDir: false,
      session: { threads: 1 },
    });
    const lines = readFileSync(manifest, 'utf8').trim().split('\n').slice(1, 65);
    const files = lines.map((l) => join(root, 'digits', l.split(',')[0]!));
    const set = await direct.extract(files.map((f, i) => ({ id: String(i), label: 0, source: f })));
    await direct.release();
    const cache1 = new FeatureCache(featureCacheDir(cache), r.cacheKey);
    files.forEach((f, i) => {
      const row = cache1.get(sha256(readFileSync(f)))!;
      const want = set.matrices[0]!.subarray(i * 16, (i + 1) * 16);
      for (let j = 0; j < 16; j++) assert.ok(Math.abs(row[j]! - want[j]!) <= 1e-6, `row ${i} col ${j}`);
    });
    cache1.close();
    // Running the same command again: every shard is found complete, nothing is queued or extracted.
    const before = workers.map((w) => w.completedJobs().length);
    const again = await queueRun(cache);
    assert.equal(again.alreadyDone, again.shards);
    assert.equal(again.extracted, 0);
    assert.deepEqual(
      workers.map((w) => w.completedJobs().length),
      before,
    );
  },
);

test(
  'graft train on the shared cache reuses the cluster’s features: no forward pass',
  { timeout: 120_000 },
  async () => {
    const r = await trainClassifier({
      data: manifest,
      model,
      features: 'final',
      cacheDir: join(root, 'cluster'),
      baseline: false,
      head: 'ncm',
    });
    assert.equal(r.counts.extracted, 0);
    assert.equal(r.counts.fromCache, DIGITS);
  },
);

test(
  'a worker SIGKILLed mid-shard: its shard is re-run elsewhere, nothing lost or doubled',
  { timeout: 180_000 },
  async () => {
    const cache = join(root, 'killed');
    // Shards of 200 images (3 of them), long enough that the kill lands while the first one is in progress: with
    // 40-image shards a fast machine could finish the shard between its 'active' event and the signal.
    const run = queueRun(cache, undefined, 200);
    // Kill whichever worker starts a shard first, while that shard is in its hands.
    const first = await Promise.race(
      workers.map((w) =>
        w.waitFor((e) => e.type === 'active' && !w.completedJobs().includes(e.job)).then((e) => ({ w, e })),
      ),
    );
    const victim = first.w;
    const killedJob = first.e.type === 'active' ? first.e.job : '';
    const doneBefore = victim.completedJobs().length;
    victim.child.kill('SIGKILL');
    await victim.exited;
    workers = workers.filter((w) => w !== victim);
    workers.push(startWorkerProcess(redis.url, 'w4', ['--lock-duration', '2000']));
    const r = await run;
    assert.equal(victim.completedJobs().length, doneBefore, 'the killed worker finished nothing more');
    assert.ok(
      workers.some((w) => w.completedJobs().includes(killedJob)),
      'the killed shard was completed by another worker',
    );
    assertSameFeatures(cache, r.cacheKey);
  },
);

test(
  'Redis restarted mid-run (append-only file): the run completes with the same result',
  { timeout: 180_000 },
  async () => {
    const cache = join(root, 'restarted');
    let restarting: Promise<void> | undefined;
    // Shards of 5 images: 120 of them. The restart starts at the first progress report, which comes right after
    // the shards are submitted (later ones come every 500 ms, by when a fast machine may have finished them all).
    const r = await queueRun(
      cache,
      (p) => {
        if (!restarting && p.done < p.total)
          restarting = (async () => {
            await redis.stop();
            await new Promise((res) => setTimeout(res, 1000));
            await redis.restart();
          })();
      },
      5,
    );
    assert.ok(restarting, 'Redis was restarted while shards were left');
    await restarting;
    assert.equal(r.shards, DIGITS / 5);
    assertSameFeatures(cache, r.cacheKey);
  },
);

test(
  'batch prediction through the queue equals the classifier run locally, in input order',
  { timeout: 180_000 },
  async () => {
    const dir = await buildFixtureModel(join(root, 'classifier'), { size: 8 });
    const lines = readFileSync(manifest, 'utf8').trim().split('\n').slice(1);
    const paths = lines.map((l) => l.split(',')[0]!);
    // A file that is not an image, in the middle: its row keeps its place, with an error.
    writeFileSync(join(root, 'digits', 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\nnot really a png'));
    const listed = [...paths.slice(0, 300), 'broken.png', ...paths.slice(300)];
    const predictManifestFile = join(root, 'digits', 'predict.jsonl');
    writeFileSync(predictManifestFile, listed.map((p) => JSON.stringify({ path: p })).join('\n'));
    const out = join(root, 'predictions.jsonl');
    const r = await predictManifest({
      modelDir: dir,
      manifest: predictManifestFile,
      out,
      queue: redis.url,
      topK: 2,
      shardSize: 50,
    });
    assert.equal(r.rows, listed.length);
    assert.equal(r.errors, 1);
    const rows = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      rows.map((x) => x.input),
      listed,
    );
    assert.match(rows[300].error, /broken\.png/);
    const clf = await load(dir);
    const local = await clf.predict(
      paths.map((p) => join(root, 'digits', p)),
      { topK: 2 },
    );
    await clf.release();
    const got = rows.filter((x) => !x.error);
    local.forEach((want, i) => {
      assert.equal(got[i].label, want.label, `row ${i}`);
      assert.ok(Math.abs(got[i].probability - want.probability) <= 1e-6);
      assert.deepEqual(
        got[i].top.map((t: { label: string }) => t.label),
        want.top.map((t) => t.label),
      );
    });
    // Under --on-bad-input fail the shard fails for good, and the error names the file.
    await assert.rejects(
      predictManifest({
        modelDir: dir,
        manifest: predictManifestFile,
        out,
        queue: redis.url,
        shardSize: 50,
        onBadInput: 'fail',
      }),
      (e: unknown) =>
        isGraftError(e, 'BAD_INPUT') && /broken\.png/.test(e.message) && /shard 7\/13/.test(e.message),
    );
  },
);

test('Redis unreachable: NETWORK_ERROR naming the URL', async () => {
  const url = 'redis://127.0.0.1:1';
  await assert.rejects(
    extractFeatures({ data: manifest, model, features: 'final', queue: url, cacheDir: join(root, 'none') }),
    (e: unknown) => isGraftError(e, 'NETWORK_ERROR') && e.message.includes(url),
  );
});
