/**
 * retainFreedMemory (native/heap): once graft's sessions have asked glibc to keep freed memory, a run whose large
 * output is allocated and freed every time reuses mapped pages instead of faulting in fresh ones. Counted in
 * minor page faults of child processes, with the setting and without it (GRAFT_RETAIN_HEAP=0).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it, test } from 'node:test';
import { GraftError } from '../../src/errors.js';

const child = fileURLToPath(new URL('./fixtures/faults-per-run.ts', import.meta.url));
const addon = fileURLToPath(new URL('../../build/Release/graft_heap.node', import.meta.url));
const glibc = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header
  ?.glibcVersionRuntime;

function faultsPerRun(retain: boolean): number[] {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', child], {
    env: { ...process.env, GRAFT_RETAIN_HEAP: retain ? '1' : '0' },
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop()!) as number[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

describe(
  'retainFreedMemory',
  { skip: !existsSync(addon) || !glibc ? 'needs graft_heap.node on glibc' : false },
  () => {
    it('turns the page faults of a 32 MB output, run after run, into reuse of mapped pages', () => {
      const pages = (8 * 32 * 128 * 256 * 4) / 4096;
      const without = median(faultsPerRun(false));
      const retained = median(faultsPerRun(true));
      // Without it every run faults the output's pages in afresh (one per 4 KB page, or more with ORT's scratch).
      assert.ok(without >= pages * 0.9, `without: ${without} faults per run, ${pages} pages`);
      assert.ok(retained < pages * 0.1, `retained: ${retained} faults per run, ${pages} pages`);
    });
  },
);

test('GRAFT_RETAIN_HEAP other than 0 or 1 is BAD_OPTION, not read as on', async () => {
  const { retainFreedMemory } = await import('../../src/runtime/heap.js');
  process.env['GRAFT_RETAIN_HEAP'] = 'yes';
  try {
    assert.throws(retainFreedMemory, (e) => e instanceof GraftError && e.code === 'BAD_OPTION');
  } finally {
    delete process.env['GRAFT_RETAIN_HEAP'];
  }
});
