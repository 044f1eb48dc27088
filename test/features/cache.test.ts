import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FeatureCache, sha256 } from '../../src/features/cache.js';

const vec = (n: number, base: number) => Float32Array.from({ length: n }, (_, i) => base + i / 8);

test('records survive a reopen; a corrupt record is dropped and the rest kept', () => {
  const dir = mkdtempSync(join(tmpdir(), 'graft-cache-'));
  const c1 = new FeatureCache(dir, 'k');
  const keys = ['a', 'b', 'c'].map((s) => sha256(s));
  c1.putMany(keys.map((k, i) => [k, vec(5, i)] as const));
  c1.close();

  const c2 = new FeatureCache(dir, 'k');
  assert.equal(c2.size, 3);
  assert.deepEqual([...c2.get(keys[1]!)!], [...vec(5, 1)]);
  c2.close();

  // Flip one byte inside the second record's payload.
  const bytes = readFileSync(c2.file);
  const recordSize = 44 + 5 * 4;
  bytes[recordSize + 44 + 3]! ^= 0xff;
  writeFileSync(c2.file, bytes);
  // And leave a half-written record at the end, as a killed process would.
  appendFileSync(c2.file, bytes.subarray(0, 20));

  const c3 = new FeatureCache(dir, 'k');
  assert.equal(c3.size, 2);
  assert.ok(!c3.has(keys[1]!));
  assert.ok(c3.report.droppedBytes >= recordSize + 20);
  assert.deepEqual([...c3.get(keys[2]!)!], [...vec(5, 2)]);
  c3.putMany([[keys[1]!, vec(5, 1)]]);
  c3.close();
  assert.equal(new FeatureCache(dir, 'k').size, 3);
});
