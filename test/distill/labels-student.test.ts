/** Distillation building blocks: teacher/data label alignment, --student specs, a teacher's logits tensor. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignLabels, parseLabelMap, selectColumns } from '../../src/distill/labels.js';
import { parseStudentSpec } from '../../src/distill/student.js';
import { logitsOf } from '../../src/distill/teacher.js';
import { distill } from '../../src/distill/distill.js';
import { isGraftError } from '../../src/errors.js';
import { attr, GraphBuilder } from '../../src/onnx/builder.js';
import { createModel } from '../../src/onnx/ir.js';

test('teacher columns follow the data labels, by name or through a label map', () => {
  const a = alignLabels(['cat', 'dog'], ['dog', 'bird', 'cat']);
  assert.deepEqual(Array.from(a.columns), [2, 0]);
  assert.deepEqual(a.unused, ['bird']);
  const m = alignLabels(['0', '1'], ['zero', 'one'], parseLabelMap('0=zero, 1=one'));
  assert.deepEqual(Array.from(m.columns), [0, 1]);
  // rows [t0, t1, t2] → data order [cat, dog] = [t2, t0]
  assert.deepEqual(Array.from(selectColumns(Float32Array.of(1, 2, 3, 4, 5, 6), 2, a.columns)), [3, 1, 6, 4]);
});

test('labels the teacher cannot score are BAD_INPUT listing both sets and --label-map', () => {
  assert.throws(
    () => alignLabels(['0', '1'], ['zero', 'one']),
    (e: unknown) =>
      isGraftError(e) &&
      e.code === 'BAD_INPUT' &&
      e.message.includes('Data labels: 0, 1') &&
      e.message.includes('Teacher labels: zero, one') &&
      e.message.includes('--label-map'),
  );
  assert.throws(
    () => parseLabelMap('0zero'),
    (e: unknown) => isGraftError(e) && e.code === 'BAD_OPTION',
  );
  assert.throws(
    () => alignLabels(['0', '1'], ['z'], { '0': 'z', '1': 'z' }),
    (e: unknown) => isGraftError(e) && e.code === 'BAD_OPTION',
  );
});

test('--student specs parse; unknown forms are BAD_OPTION naming the accepted ones', () => {
  assert.deepEqual(parseStudentSpec('cut:block_12_add@2x2'), { kind: 'cut', feature: 'block_12_add@2x2' });
  assert.deepEqual(parseStudentSpec('cnn'), { kind: 'cnn' });
  assert.deepEqual(parseStudentSpec('model:npm:nsfwjs/mobilenet_v2:block_5_add'), {
    kind: 'model',
    id: 'npm:nsfwjs/mobilenet_v2',
    feature: 'block_5_add',
  });
  assert.deepEqual(parseStudentSpec('layers:3'), { kind: 'layers', count: 3 });
  assert.deepEqual(parseStudentSpec('layers:0,2,4'), { kind: 'layers', layers: [0, 2, 4] });
  for (const bad of ['resnet', 'model:nope', 'layers:', 'layers:1,,2', 'layers:-1', 'layers:two'])
    assert.throws(
      () => parseStudentSpec(bad),
      (e: unknown) => isGraftError(e) && e.code === 'BAD_OPTION',
    );
});

test("a teacher's logits are its Softmax's input, or the output itself", () => {
  const b = new GraphBuilder('t');
  b.input('x', 'float32', ['N', 3]);
  const p = b.op('Softmax', ['x'], { axis: attr.int(1) }, { outputs: ['probs'] });
  b.output(p);
  assert.equal(logitsOf(createModel(b.graph, 13), 'probs'), 'x');
  assert.equal(logitsOf(createModel(b.graph, 13), 'x'), 'x');
});

test('distill() refuses options its student would drop, before loading anything', async () => {
  const base = { data: 'mnist', teacher: 'file:none.onnx', teacherLabels: ['a', 'b'] };
  for (const extra of [
    { student: 'cnn', hidden: [64] },
    { student: 'cut:block_12_add', hidden: [64] },
    { student: 'cnn', warmStart: false },
    { student: 'mlp', unfreeze: 'all' },
    {
      student: 'mlp',
      teacher: './some-dir',
      teacherLabels: undefined,
      teacherNormalization: 'imagenet' as const,
    },
  ])
    await assert.rejects(
      distill({ ...base, ...extra }),
      (e: unknown) => isGraftError(e) && e.code === 'BAD_OPTION',
      JSON.stringify(extra),
    );
});
