/**
 * Text distillation with unlabelled texts (`unlabeled`): the unlabelled rows join the transfer set with the
 * teacher's logits and label -1, and change the student (against the same run without them, same seed); and the
 * text student's training loss on a batch mixing labelled and unlabelled rows is α·T²·KL over every row plus
 * (1 − α)·CE over the labelled rows only, computed here by hand from the student's and teacher's logits.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { distill } from '../../src/distill/distill.js';
import { EXIT_CODES } from '../../src/errors.js';
import type { TrainEvent } from '../../src/pipeline/events.js';
import { TEACHER_LOGITS } from '../../src/strategies/finetune/suffix-graph.js';
import { loadTextEncoder } from '../../src/text/encoder.js';
import { TextDataSource } from '../../src/text/finetune/data.js';
import { SequenceClassifier } from '../../src/text/finetune/model.js';
import { BERT_SOURCE } from '../text/helpers.js';
import { csv, sentences, tinyTextTeacher } from './text-fixtures.js';

const CLI = fileURLToPath(new URL('../scale/child-graft.ts', import.meta.url));

function graft(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('text distillation with unlabelled texts', () => {
  const tmp = join(tmpdir(), `graft-distill-text-unlabeled-${process.pid}`);
  const data = join(tmp, 'data.csv');
  const teacher = join(tmp, 'teacher');
  const unlabeled = join(tmp, 'unlabeled.csv');
  after(() => rm(tmp, { recursive: true, force: true }));

  before(async () => {
    await mkdir(tmp, { recursive: true });
    await csv(data, 40, 1);
    await tinyTextTeacher(data, teacher);
    // Texts only, no label column; one empty row (a counted warning) and one text the labelled data has.
    const texts = sentences(30, 7).map(([t]) => `"${t}"`);
    const seen = sentences(40, 1)[0]![0];
    await writeFile(unlabeled, ['text', ...texts, '"  "', `"${seen}"`].join('\n') + '\n');
  });

  it('unlabelled texts join the transfer set and change the student', async () => {
    const common = {
      data,
      teacher,
      student: 'layers:1',
      threads: 2,
      speedRounds: 0,
      seed: 3,
      epochs: 1,
      lr: 1e-3,
      alpha: 0.5,
    } as const;
    const events: TrainEvent[] = [];
    const withU = await distill({ ...common, unlabeled, onEvent: (e) => events.push(e) });
    const without = await distill(common);
    const labelledTexts = new Set(sentences(40, 1).map(([t]) => t));
    const expected = new Set(
      sentences(30, 7)
        .map(([t]) => t)
        .filter((t) => !labelledTexts.has(t)),
    ).size;
    assert.equal(withU.counts.unlabeled, expected);
    assert.equal(without.counts.unlabeled, 0);
    assert.equal(withU.counts.train, without.counts.train);
    const bad = events.flatMap((e) =>
      e.type === 'warning' && e.warning.code === 'BAD_ROW' ? [e.warning] : [],
    );
    assert.equal(bad[0]?.count, 1, 'the empty row is a counted warning');
    assert.ok(
      events.some((e) => e.type === 'stage' && /labelled \+ \d+ unlabelled texts/.test(e.message)),
      'the run says how many unlabelled texts it uses',
    );
    // Same seed, same labelled data: only the unlabelled texts differ, and they move the student.
    assert.notEqual(withU.evaluation.logLoss, without.evaluation.logLoss);

    // A few shots labelled, the labelled file itself as the unlabelled texts: only the training texts that are
    // not among the shots stay (the shots and every held-out text are left out).
    const allTexts = join(tmp, 'all-texts.csv');
    await writeFile(allTexts, ['text', ...sentences(40, 1).map(([t]) => `"${t}"`)].join('\n') + '\n');
    const shots = await distill({ ...common, shots: 5, unlabeled: allTexts });
    assert.equal(shots.counts.train, 10);
    assert.equal(shots.counts.unlabeled, without.counts.train - 10);
    assert.equal(shots.counts.test, without.counts.test);
  });

  it('graft distill --unlabeled takes a text CSV; a file without a text column is BAD_INPUT', () => {
    const base = ['distill', data, '--teacher', teacher, '--student', 'layers:1', '--epochs', '1'];
    const small = ['--speed-rounds', '0', '--threads', '2', '--seed', '3'];
    const ok = graft([...base, ...small, '--unlabeled', unlabeled, '--out', join(tmp, 'cli'), '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    const r = JSON.parse(ok.stdout) as { counts: { unlabeled: number }; alpha: number };
    assert.ok(r.counts.unlabeled > 50, JSON.stringify(r.counts));
    assert.equal(r.alpha, 0.9, 'α defaults to 0.9 with unlabelled data');
    const noText = join(tmp, 'no-text.csv');
    writeFileSync(noText, 'body\nhello\n');
    const bad = graft([...base, ...small, '--unlabeled', noText, '--out', join(tmp, 'cli-bad'), '--quiet']);
    assert.equal(bad.code, EXIT_CODES.BAD_INPUT, bad.stderr);
    assert.match(bad.stderr, /needs a 'text' column/);
  });

  it('the loss of unlabelled rows has no cross-entropy term', async () => {
    const enc = await loadTextEncoder(BERT_SOURCE);
    const [temperature, alpha, c] = [2, 0.7, 3];
    const model = await SequenceClassifier.create(enc.model, {
      numClasses: c,
      dropout: 0,
      unfreeze: 'all',
      seed: 4,
      distill: { temperature, alpha },
      session: { threads: 2 },
    });
    try {
      const texts = ['the cat sat', 'red and blue', 'a fox in the day', 'green', 'they have a dog'];
      const teacherLogits = Float32Array.from([
        1, -2, 0.5, 0.3, 0.1, 2, -1, 1.5, 0, 2, 2, -3, 0.2, 0.4, -0.7,
      ]);
      const batchOf = (labels: number[]) =>
        TextDataSource.fromTexts(enc.tokenizer, texts, labels, {
          maxLength: 16,
          inputs: model.inputs,
          columns: { [TEACHER_LOGITS]: { dtype: 'float32', shape: [5, c], data: teacherLogits } },
        }).batchOf([0, 1, 2, 3, 4]);
      const mixed = batchOf([2, -1, 0, -1, 1]);
      const { logits } = await model.forward(mixed.inputs);
      const logSoftmax = (z: ArrayLike<number>, row: number, t: number) => {
        const r = Array.from({ length: c }, (_, j) => z[row * c + j]! / t);
        const m = Math.max(...r);
        const lse = m + Math.log(r.reduce((s, v) => s + Math.exp(v - m), 0));
        return r.map((v) => v - lse);
      };
      const hand = (labels: number[]) => {
        let kl = 0;
        let ce = 0;
        let n = 0;
        labels.forEach((y, i) => {
          const lt = logSoftmax(teacherLogits, i, temperature);
          const ls = logSoftmax(logits, i, temperature);
          kl += lt.reduce((s, v, j) => s + Math.exp(v) * (v - ls[j]!), 0);
          if (y >= 0) {
            ce -= logSoftmax(logits, i, 1)[y]!;
            n++;
          }
        });
        return alpha * temperature ** 2 * (kl / labels.length) + (1 - alpha) * (n ? ce / n : 0);
      };
      for (const labels of [
        [2, -1, 0, -1, 1],
        [-1, -1, -1, -1, -1],
        [2, 1, 0, 0, 1],
      ]) {
        const { loss } = await model.computeGradients(batchOf(labels));
        const want = hand(labels);
        assert.ok(
          Math.abs(loss - want) <= 1e-5 * Math.max(1, Math.abs(want)),
          `${labels}: ${loss} vs ${want}`,
        );
      }
      // The hand loss of the mixed batch differs from the all-labelled one only in the CE rows left out.
      assert.notEqual(hand([2, -1, 0, -1, 1]), hand([2, 1, 0, 0, 1]));
    } finally {
      await model.release();
    }
  });
});
