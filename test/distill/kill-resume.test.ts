/**
 * SIGKILL a text distillation mid-run, then resume: the final student weights (the last checkpoint's and the
 * written model.onnx) are bit-identical to an uninterrupted run's, the checkpoints written before the kill are not
 * rewritten (the run really resumed), and no temporary is left behind. The transfer set mixes labelled and
 * unlabelled texts; the student has dropout, so the resumed run must also restore the noise generator's state.
 */
import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MODEL_FILE } from '../../src/export/manifest.js';
import { latestCheckpoint } from '../../src/train/checkpoints.js';
import {
  assertResumedInPlace,
  assertSameFinalParams,
  checkpointTimes,
  finalParams,
  runChild,
} from '../train/kill-harness.js';
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

const run = (args: string[]) => runChild(CHILD, [data, unlabeled, teacher, ...args]);

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
    const written = await checkpointTimes(dir);

    const r = await run([killed, '-', 'resume']);
    assert.equal(r.code, 0, r.stderr);
    await assertResumedInPlace(dir, written);
    await assertSameFinalParams(full, killed);
    const [ma, mb] = await Promise.all([full, killed].map((d) => readFile(join(d, MODEL_FILE))));
    assert.ok(ma!.equals(mb!), 'the written student model.onnx files are identical');
  },
);
