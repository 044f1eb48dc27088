/**
 * ONNX conformance through graft's IR: every libonnx-testdata model is decoded into the IR, encoded back and run
 * in ONNX Runtime against ONNX's expected outputs. A model ORT runs correctly from its original bytes but not
 * after graft's round trip is an IR bug and fails this test.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { listCases, TESTDATA_ROOT } from './conformance-data.js';
import { runCase, runCases, type CaseResult } from './conformance-runner.js';

const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');

function summarise(results: readonly CaseResult[]) {
  const count = (s: CaseResult['status']): number => results.filter((r) => r.status === s).length;
  const skipReasons: Record<string, number> = {};
  for (const r of results)
    if (r.status === 'skip') skipReasons[r.reason!] = (skipReasons[r.reason!] ?? 0) + 1;
  return {
    root: TESTDATA_ROOT,
    total: results.length,
    pass: count('pass'),
    fail: count('fail'),
    skipped: count('skip'),
    skipReasons,
    failures: results.filter((r) => r.status === 'fail'),
    skips: results.filter((r) => r.status === 'skip'),
  };
}

test('libonnx-testdata models survive graft IR round trip and run in ONNX Runtime', async () => {
  assert.ok(
    existsSync(TESTDATA_ROOT),
    `ONNX conformance data not found at ${TESTDATA_ROOT}: install it with 'apt-get install libonnx-testdata' ` +
      `(CI installs it) or point ONNX_TESTDATA at a copy of onnx/backend/test/data`,
  );
  const cases = listCases();
  assert.ok(
    cases.length > 500,
    `expected the libonnx-testdata cases under ${TESTDATA_ROOT}, found ${cases.length}`,
  );
  const started = Date.now();
  const results = await runCases(cases, 4);
  const summary = summarise(results);
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(join(ARTIFACTS, 'conformance.json'), JSON.stringify(summary, null, 2));
  const reasons = Object.entries(summary.skipReasons)
    .sort((a, b) => b[1] - a[1])
    .map(([r, n]) => `${n} ${r}`)
    .join('; ');
  console.log(
    `conformance: ${summary.pass} pass / ${summary.fail} fail / ${summary.skipped} skipped ` +
      `(${reasons}) of ${summary.total} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  const failures = summary.failures.map((f) => `${f.id}: ${f.reason}: ${f.detail ?? ''}`);
  assert.deepEqual(failures, [], `${failures.length} models broke in graft's round trip`);
  assert.ok(summary.pass > 0.7 * summary.total, `only ${summary.pass} of ${summary.total} cases passed`);
});

test('the conformance runner detects a round trip that changes a model', async (t) => {
  const c = listCases(TESTDATA_ROOT, ['node']).find((x) => x.name === 'test_conv_with_strides_padding');
  if (!c) return t.skip('conformance data not installed (the test above reports it)');
  assert.equal((await runCase(c)).status, 'pass');
  const broken = await runCase(c, {
    mutate: (m) => {
      delete m.graph.nodes[0]!.attrs['pads'];
    },
  });
  assert.equal(broken.status, 'fail', JSON.stringify(broken));
});
