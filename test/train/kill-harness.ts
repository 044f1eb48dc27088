/**
 * What the kill-and-resume tests share (test/train/kill-resume.test.ts, test/distill/kill-resume.test.ts): the
 * child's self-SIGKILL once a checkpoint at or past a step appears, running a child, the newest real checkpoint's
 * weights, and the checks that a resume continued in place and ended bit-identical to an unbroken run.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, watch } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { listCheckpoints, readCheckpoint, STATE_FILE } from '../../src/train/checkpoints.js';

/** In a child: SIGKILL this process as soon as `out`/checkpoints/checkpoint-N appears with N ≥ killAt. */
export function killAtCheckpoint(out: string, killAt: number): void {
  const dir = join(out, 'checkpoints');
  mkdirSync(dir, { recursive: true });
  watch(dir, (_event, name) => {
    const step = /^checkpoint-(\d+)$/.exec(String(name))?.[1];
    if (step !== undefined && Number(step) >= killAt) process.kill(process.pid, 'SIGKILL');
  });
}

export interface ChildEnd {
  code: number | null;
  signal: string | null;
  stderr: string;
}

/** Runs `node --import tsx script ...args`; resolves with how it ended. */
export function runChild(script: string, args: readonly string[]): Promise<ChildEnd> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** The newest checkpoint's step and weights (checkpoints numbered 999 or more are planted fakes). */
export async function finalParams(out: string): Promise<{ step: number; params: Map<string, Float32Array> }> {
  const list = await listCheckpoints(join(out, 'checkpoints'));
  const c = await readCheckpoint(list.filter((e) => e.step < 999).at(-1)!.path);
  return { step: c.trainer.global_step, params: c.state.params };
}

/** When each checkpoint's state file was written. */
export async function checkpointTimes(dir: string): Promise<Map<string, number>> {
  const written = new Map<string, number>();
  for (const c of await listCheckpoints(dir))
    written.set(c.path, (await stat(join(c.path, STATE_FILE))).mtimeMs);
  return written;
}

/** The resumed run rewrote none of the checkpoints written before the kill and left no temporaries. */
export async function assertResumedInPlace(dir: string, written: ReadonlyMap<string, number>): Promise<void> {
  for (const [path, mtime] of written)
    assert.equal((await stat(join(path, STATE_FILE))).mtimeMs, mtime, `${path} was not rewritten`);
  assert.deepEqual(
    (await readdir(dir)).filter((n) => n.startsWith('.')),
    [],
    'no temporaries left',
  );
}

const bytes = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

/** Both runs ended at the same step with the same weights, bit for bit. */
export async function assertSameFinalParams(full: string, killed: string): Promise<void> {
  const a = await finalParams(full);
  const b = await finalParams(killed);
  assert.equal(b.step, a.step);
  assert.deepEqual([...b.params.keys()].sort(), [...a.params.keys()].sort());
  const differing = [...a.params].filter(([name, v]) => !bytes(v).equals(bytes(b.params.get(name)!)));
  assert.equal(differing.length, 0, `${differing.length} of ${a.params.size} tensors differ`);
}
