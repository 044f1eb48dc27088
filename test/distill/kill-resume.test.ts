/**
 * SIGKILL a text distillation mid-run, then resume: the final student weights (the last checkpoint's and the
 * written model.onnx) are bit-identical to an uninterrupted run's, the checkpoints written before the kill are not
 * rewritten (the run really resumed), and no temporary is left behind. The transfer set mixes labelled and
 * unlabelled texts; the student has dropout, so the resumed run must also restore the noise generator's state.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MODEL_FILE } from '../../src/export/manifest.js';
import {
  latestCheckpoint,
  listCheckpoints,
  readCheckpoint,
  STATE_FILE,
} from '../../src/train/checkpoints.js';
import { csv, sentences, tinyTextTeacher } from './text-fixtures.js';

const CHILD = fileURLToPath(new URL('./kill-child.ts', import.meta.url));
let root: string;
let data: string;
let unlabeled: string;
let teacher: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'graft-distill-kill-'));
  data = await csv(join(root, 'data.csv'), 10, 1);
  teacher = join(root, 'teacher');
  await tinyTextTeacher(await csv(join(root, 'teacher.csv'), 40, 2), teacher);
  unlabeled = join(root, 'unlabeled.csv');
  const texts = sentences(5, 9).map(([t]) => `"${t}"`);
  await writeFile(unlabeled, ['text', ...texts].join('\n') + '\n');
});
after(() => rm(root, { recursive: true, force: true }));

/** Runs the child; resolves with how it ended. */
function run(args: string[]): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, data, unlabeled, teacher, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

async function finalParams(out: string): Promise<{ step: number; params: Map<string, Float32Array> }> {
  const list = await listCheckpoints(join(out, 'checkpoints'));
  const c = await readCheckpoint(list.at(-1)!.path);
  return { step: c.trainer.global_step, params: c.state.params };
}

const bytes = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

test(
  'text distillation: SIGKILL at step 5, resume → bit-identical final student',
  { timeout: 180_000 },
  async () => {
    const killAt = 5;
    const full = join(root, 'full');
    const killed = join(root, 'killed');
    const ok = await run([full, '-']);
    assert.equal(ok.code, 0, ok.stderr);

    const k = await run([killed, String(killAt)]);
    assert.equal(k.signal, 'SIGKILL', `killed, not ${k.code}: ${k.stderr}`);
    const dir = join(killed, 'checkpoints');
    const at = (await latestCheckpoint(dir))!;
    const total = (await finalParams(full)).step;
    assert.ok(at.trainer.global_step >= killAt && at.trainer.global_step < total, `killed at ${at.path}`);
    const written = new Map<string, number>();
    for (const c of await listCheckpoints(dir))
      written.set(c.path, (await stat(join(c.path, STATE_FILE))).mtimeMs);

    const r = await run([killed, '-', 'resume']);
    assert.equal(r.code, 0, r.stderr);
    for (const [path, mtime] of written)
      assert.equal((await stat(join(path, STATE_FILE))).mtimeMs, mtime, `${path} was not rewritten`);
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.startsWith('.')),
      [],
      'no temporaries left',
    );

    const a = await finalParams(full);
    const b = await finalParams(killed);
    assert.equal(b.step, a.step);
    assert.deepEqual([...b.params.keys()].sort(), [...a.params.keys()].sort());
    const differing = [...a.params].filter(([name, v]) => !bytes(v).equals(bytes(b.params.get(name)!)));
    assert.equal(differing.length, 0, `${differing.length} of ${a.params.size} tensors differ`);
    const [ma, mb] = await Promise.all([full, killed].map((d) => readFile(join(d, MODEL_FILE))));
    assert.ok(ma!.equals(mb!), 'the written student model.onnx files are identical');
  },
);
