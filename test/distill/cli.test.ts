/**
 * `graft distill` as a user runs it (the CLI from source, in a child process), with a bare ONNX teacher
 * (file: + --teacher-labels) whose class names differ from the data's: refused with both label sets and the
 * --label-map hint, then run with the map; options that cannot be honoured exit with BAD_OPTION.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT_CODES } from '../../src/errors.js';
import { attr, GraphBuilder } from '../../src/onnx/builder.js';
import { createModel } from '../../src/onnx/ir.js';
import { encodeModel } from '../../src/onnx/io.js';

const CLI = fileURLToPath(new URL('../scale/child-graft.ts', import.meta.url));
const NAMES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

/** A linear classifier on 28×28 gray pixels (random weights) ending in Softmax. */
function teacherOnnx(): Uint8Array {
  const b = new GraphBuilder('teacher');
  b.input('image', 'float32', ['N', 28, 28, 1]);
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.2;
  const w = b.initializer('w', {
    dtype: 'float32',
    shape: [784, 10],
    data: Float32Array.from({ length: 7840 }, rand),
  });
  const flat = b.op('Flatten', ['image'], { axis: attr.int(1) });
  const logits = b.op('MatMul', [flat, w]);
  b.node('Softmax', [logits], { axis: attr.int(1) }, { outputs: ['probs'] });
  b.output('probs', 'float32', ['N', 10]);
  return encodeModel(createModel(b.graph, 13));
}

function graft(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('graft distill: a teacher with other label names is refused listing both sets; --label-map runs it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'graft-distill-cli-'));
  try {
    const onnx = join(dir, 'teacher.onnx');
    await writeFile(onnx, teacherOnnx());
    const common = ['distill', 'mnist', '--teacher', `file:${onnx}`, '--teacher-labels', NAMES.join(',')];
    const small = ['--student', 'mlp', '--shots', '10', '--epochs', '1', '--no-cache', '--speed-rounds', '1'];

    const bad = graft([...common, ...small, '--out', join(dir, 'refused'), '--quiet']);
    assert.equal(bad.code, EXIT_CODES.BAD_INPUT, bad.stderr);
    assert.match(bad.stderr, /Data labels: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9/);
    assert.match(bad.stderr, /Teacher labels: zero, one, two, three, four, five, six, seven, eight, nine/);
    assert.match(bad.stderr, /--label-map/);

    const map = NAMES.map((n, i) => `${i}=${n}`).join(',');
    const out = join(dir, 'student');
    const ok = graft([...common, ...small, '--label-map', map, '--out', out, '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    const r = JSON.parse(ok.stdout) as {
      dir: string;
      labels: string[];
      comparison: { student: { agreement: number }; teacher: { parameters: number } };
    };
    assert.equal(r.dir, out);
    assert.deepEqual(
      r.labels,
      NAMES.map((_, i) => String(i)),
    );
    assert.equal(r.comparison.teacher.parameters, 7840);
    assert.ok(r.comparison.student.agreement >= 0 && r.comparison.student.agreement <= 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('graft distill: options it cannot honour exit with BAD_OPTION', () => {
  const base = ['distill', 'mnist', '--teacher', 'file:none.onnx', '--teacher-labels', 'a,b', '--quiet'];
  for (const extra of [
    ['--student', 'mlp', '--alpha', '1.5'],
    ['--student', 'mlp', '--temperature', '0'],
    ['--student', 'mlp', '--augment-flip'],
    ['--student', 'resnet'],
    ['--student', 'mlp', '--unfreeze', 'all'],
  ]) {
    const r = graft([...base, ...extra]);
    assert.equal(r.code, EXIT_CODES.BAD_OPTION, `${extra.join(' ')}: ${r.stderr}`);
  }
});
