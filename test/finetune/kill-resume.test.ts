/**
 * A real child process fine-tunes (MobileNetV2 last block, BN training mode, AdamW + cosine schedule) with a
 * checkpoint every step; it is SIGKILLed mid-run, resumed from the newest intact checkpoint (a half-written one
 * planted beside it is skipped), and ends with the same weights as an uninterrupted run.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { encodeCheckpoint, loadLatestCheckpoint } from '../../src/train/checkpoint-io.js';

const CHILD = fileURLToPath(new URL('./child-train.ts', import.meta.url));

function run(args: string[], killAtStep?: { dir: string; step: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let timer: NodeJS.Timeout | undefined;
    if (killAtStep) {
      const poll = async (): Promise<void> => {
        const names = await readdir(killAtStep.dir).catch(() => []);
        const steps = names.flatMap((n) => /^step-(\d+)\.ckpt$/.exec(n)?.[1] ?? []).map(Number);
        if (steps.some((s) => s >= killAtStep.step)) child.kill('SIGKILL');
      };
      timer = setInterval(() => void poll(), 20);
    }
    child.on('exit', (code, signal) => {
      if (timer) clearInterval(timer);
      if (killAtStep ? signal === 'SIGKILL' : code === 0) resolve(stdout);
      else reject(new Error(`child exited with ${code ?? signal}: ${stderr}`));
    });
  });
}

test(
  'SIGKILL mid-run, resume: same weights as an uninterrupted run (max abs diff ≤ 1e-6)',
  { timeout: 120_000 },
  async () => {
    const root = await mkdtemp(join(tmpdir(), 'graft-ft-kill-'));
    try {
      const full = join(root, 'full');
      const killed = join(root, 'killed');
      await run([full, join(root, 'full.bin')]);
      await run([killed, join(root, 'unused.bin')], { dir: killed, step: 6 });
      const before = await loadLatestCheckpoint(killed);
      assert.ok(before && before.step >= 6 && before.step < 15, `killed mid-run (at step ${before?.step})`);
      // A half-written newer checkpoint must never be loaded.
      const half = encodeCheckpoint({ ...before, step: 99 });
      await writeFile(join(killed, 'step-000000099.ckpt'), half.subarray(0, half.length >> 1));
      const out = await run([killed, join(root, 'resumed.bin'), 'resume']);
      assert.match(out, new RegExp(`resumed-at ${before.step}\\n`));
      const a = await readFile(join(root, 'full.bin'));
      const b = await readFile(join(root, 'resumed.bin'));
      assert.equal(a.length, b.length);
      const nl = a.indexOf(10);
      assert.deepEqual(a.subarray(0, nl), b.subarray(0, nl));
      const fa = new Float32Array(new Uint8Array(a.subarray(nl + 1)).buffer);
      const fb = new Float32Array(new Uint8Array(b.subarray(nl + 1)).buffer);
      let maxDiff = 0;
      for (let i = 0; i < fa.length; i++) maxDiff = Math.max(maxDiff, Math.abs(fa[i]! - fb[i]!));
      assert.ok(maxDiff <= 1e-6, `max abs diff ${maxDiff}`);
      assert.ok(fa.length > 400_000, 'backbone weights, BN buffers and head are compared');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  },
);
