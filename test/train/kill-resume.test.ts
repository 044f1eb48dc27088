/**
 * SIGKILL mid-run, then `resume`: the final weights are bit-identical to an uninterrupted run's, for an image run
 * (two-phase LP-FT on a tiny conv backbone, augmentation on) and a text run (two-phase LP-FT on a tiny BERT, killed
 * in either phase), both from the one checkpoint format. A damaged newer checkpoint planted beside the real ones
 * is skipped, the checkpoints written before the kill are not rewritten (the run really resumed), and no
 * temporary is left behind.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { latestCheckpoint, STATE_FILE } from '../../src/train/checkpoints.js';
import { tinyBackbone } from '../scale/fixtures.js';
import {
  assertResumedInPlace,
  assertSameFinalParams,
  checkpointTimes,
  finalParams,
  runChild,
} from './kill-harness.js';

const CHILD = fileURLToPath(new URL('./kill-child.ts', import.meta.url));
let root: string;
let backbone: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'graft-kill-'));
  backbone = await tinyBackbone(join(root, 'backbone'));
});
after(() => rm(root, { recursive: true, force: true }));

const run = (args: string[]) => runChild(CHILD, args);

for (const [kind, killAt] of [
  ['image', 5],
  // 4 steps per epoch: step 2 is in LP-FT's probe phase, step 5 in the fine-tuning phase after it
  ['text', 2],
  ['text', 5],
] as const) {
  test(
    `${kind}: SIGKILL at step ${killAt}, resume → bit-identical final weights`,
    { timeout: 120_000 },
    async () => {
      const extra = kind === 'image' ? [backbone] : [];
      const full = join(root, `${kind}-${killAt}-full`);
      const killed = join(root, `${kind}-${killAt}-killed`);
      const ok = await run([kind, full, '-', '', ...extra]);
      assert.equal(ok.code, 0, ok.stderr);

      const k = await run([kind, killed, String(killAt), '', ...extra]);
      assert.equal(k.signal, 'SIGKILL', `killed, not ${k.code}: ${k.stderr}`);
      const dir = join(killed, 'checkpoints');
      const at = (await latestCheckpoint(dir))!;
      const total = (await finalParams(full)).step;
      assert.ok(at.trainer.global_step >= killAt && at.trainer.global_step < total, `killed at ${at.path}`);
      // a damaged checkpoint newer than all others must never be loaded
      await cp(at.path, join(dir, 'checkpoint-999'), { recursive: true });
      await writeFile(join(dir, 'checkpoint-999', STATE_FILE), 'half');
      const written = await checkpointTimes(dir);

      const r = await run([kind, killed, '-', 'resume', ...extra]);
      assert.equal(r.code, 0, r.stderr);
      await assertResumedInPlace(dir, written);
      await assertSameFinalParams(full, killed);
    },
  );
}
