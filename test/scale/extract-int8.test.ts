/**
 * `graft extract --int8` (library: extractFeatures({ int8: true })) on a tiny conv backbone and MNIST digit files:
 * int8 features close to the float ones by a stated bound (and not equal to them), a cache key of their own, the
 * int8 model calibrated on a sample that does not depend on the listing order and kept in the cache (a second run
 * and the library's FeatureExtractor find it there), what a worker does with a missing or altered int8 file, and
 * the option refusals.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isGraftError } from '../../src/errors.js';
import { FeatureCache, sha256 } from '../../src/features/cache.js';
import { FeatureExtractor, featureCacheDir } from '../../src/features/extract.js';
import { loadBackbone } from '../../src/models/registry.js';
import { decodeModel } from '../../src/onnx/io.js';
import { ExtractEngine } from '../../src/scale/extract-shard.js';
import { extractFeatures, type ExtractRunResult } from '../../src/scale/extract.js';
import type { ExtractShardJob } from '../../src/scale/jobs.js';
import { digitFiles, tinyBackbone } from './fixtures.js';

const DIGITS = 48;
const CALIBRATION = 16;
let root: string;
let model: string;
let manifest: string;
let files: string[];
let fp32: ExtractRunResult;
let int8: ExtractRunResult;

const run = (cacheDir: string, more: Parameters<typeof extractFeatures>[0] | object = {}) =>
  extractFeatures({
    data: manifest,
    model,
    features: 'final',
    cacheDir,
    shardSize: 16,
    threads: 1,
    ...more,
  });

/** Each file's 16 pooled features from a cache, in file order. */
function rows(cacheDir: string, key: string): Float32Array[] {
  const cache = new FeatureCache(featureCacheDir(cacheDir), key);
  const out = files.map((f) => cache.get(sha256(readFileSync(f)))!);
  cache.close();
  assert.ok(
    out.every((r) => r?.length === 16),
    'every file has its row',
  );
  return out;
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'graft-extract-int8-'));
  model = await tinyBackbone(join(root, 'model'));
  manifest = await digitFiles(join(root, 'digits'), DIGITS);
  files = readFileSync(manifest, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => join(root, 'digits', l.split(',')[0]!));
  fp32 = await run(join(root, 'cache'));
  int8 = await run(join(root, 'cache'), { int8: true, calibrationExamples: CALIBRATION });
});

after(() => rmSync(root, { recursive: true, force: true }));

test('int8 features have their own cache key and stay within 2% (relative L2) of the float ones', () => {
  assert.notEqual(int8.cacheKey, fp32.cacheKey);
  assert.equal(int8.extracted, DIGITS);
  const a = rows(join(root, 'cache'), fp32.cacheKey);
  const b = rows(join(root, 'cache'), int8.cacheKey);
  let diff = 0;
  let norm = 0;
  a.forEach((row, i) =>
    row.forEach((x, j) => {
      diff += (x - b[i]![j]!) ** 2;
      norm += x * x;
    }),
  );
  const rel = Math.sqrt(diff / norm);
  assert.ok(rel > 0, 'the int8 features are not the float ones');
  assert.ok(rel < 0.02, `relative L2 error ${rel}`);
});

test('the int8 model is a QDQ graph kept in the cache, and its hash is the one reported', () => {
  assert.ok(int8.int8, 'the result names the int8 model');
  assert.equal(fp32.int8, undefined);
  const bytes = readFileSync(int8.int8.file);
  assert.equal(sha256(bytes), int8.int8.sha256);
  const ops = decodeModel(bytes).graph.nodes.map((n) => n.opType);
  assert.ok(ops.includes('QuantizeLinear') && ops.includes('DequantizeLinear'), ops.join(' '));
});

test('a second run finds the int8 model and every shard in the cache', async () => {
  const mtime = statSync(int8.int8!.file).mtimeMs;
  const again = await run(join(root, 'cache'), { int8: true, calibrationExamples: CALIBRATION });
  assert.equal(again.cacheKey, int8.cacheKey);
  assert.equal(again.alreadyDone, again.shards);
  assert.equal(again.extracted, 0);
  assert.equal(statSync(int8.int8!.file).mtimeMs, mtime, 'not written again');
});

test('the calibration sample does not depend on the listing order: a reversed manifest, a fresh cache, the same model', async () => {
  const lines = readFileSync(manifest, 'utf8').trim().split('\n');
  const reversed = join(root, 'digits', 'reversed.csv');
  writeFileSync(reversed, [lines[0], ...lines.slice(1).reverse()].join('\n') + '\n');
  const r = await run(join(root, 'cache-reversed'), {
    data: reversed,
    int8: true,
    calibrationExamples: CALIBRATION,
  });
  assert.equal(r.int8!.sha256, int8.int8!.sha256);
  assert.equal(r.cacheKey, int8.cacheKey);
  // A different sample size is a different model.
  const other = await run(join(root, 'cache-other'), { int8: true, calibrationExamples: CALIBRATION / 2 });
  assert.notEqual(other.int8!.sha256, int8.int8!.sha256);
});

test("the library's int8 FeatureExtractor, calibrated on the same sample, reuses the cached model and key", async () => {
  const backbone = await loadBackbone(model);
  const pre = backbone.spec.preprocess;
  assert.equal(pre.kind, 'image');
  const byKey = files
    .map((f) => ({ f, key: sha256(readFileSync(f)) }))
    .sort((x, y) => (x.key < y.key ? -1 : 1))
    .slice(0, CALIBRATION);
  const x = await FeatureExtractor.create(backbone.model, backbone.spec.inputName, pre, ['features'], {
    cacheDir: join(root, 'cache'),
    session: { threads: 1 },
    int8: { calibration: byKey.map((c, i) => ({ id: String(i), label: 0, source: c.f })) },
  });
  try {
    assert.equal(x.int8?.built, false);
    assert.equal(x.int8?.sha256, int8.int8!.sha256);
    assert.equal(x.featureKey, int8.cacheKey);
  } finally {
    await x.release();
  }
});

test('a worker whose int8 model is missing or altered refuses the shard', async () => {
  const job = (cacheDir: string, sha: string): ExtractShardJob => ({
    kind: 'extract',
    shard: 0,
    shards: 1,
    model,
    tensors: ['features'],
    int8: {
      id: int8
        .int8!.file.split('/')
        .pop()!
        .replace(/\.onnx$/, ''),
      sha256: sha,
    },
    cacheKey: int8.cacheKey,
    shardName: 'x',
    cacheDir,
    onBadInput: 'skip',
    batchSize: 8,
    items: [],
  });
  await assert.rejects(
    ExtractEngine.open(job(join(root, 'nowhere'), int8.int8!.sha256), {}),
    (e) => isGraftError(e, 'MODEL_NOT_FOUND') && /mount the shared cache/.test(e.message),
  );
  await assert.rejects(
    ExtractEngine.open(job(join(root, 'cache'), '0'.repeat(64)), {}),
    (e) => isGraftError(e, 'CORRUPT_MODEL') && /not the int8 model this run was planned with/.test(e.message),
  );
});

test('--calibration-examples without --int8 is refused', async () => {
  await assert.rejects(
    run(join(root, 'cache'), { calibrationExamples: 8 }),
    (e) =>
      isGraftError(e, 'BAD_OPTION') &&
      e.message.includes('--calibration-examples sizes the int8 calibration') &&
      e.message.includes('add --int8'),
  );
});
