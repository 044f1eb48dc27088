/**
 * `graft quantize` on a small conv classifier directory: model.int8.onnx and its graft.json record, QDQ
 * structure (int8 per-channel weights, int32 biases), ONNX Runtime fusing the QDQ groups into integer kernels,
 * and graft's int8 predictions equal to a plain onnxruntime InferenceSession's on the same file.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { isGraftError } from '../../src/errors.js';
import { INT8_MODEL_FILE, readManifest } from '../../src/export/manifest.js';
import { decodeModel } from '../../src/onnx/io.js';
import { load } from '../../src/predict/classifier.js';
import { preprocessBatch } from '../../src/preprocess/image.js';
import { absMaxAlong } from '../../src/quantize/params.js';
import { quantizeModelDir } from '../../src/quantize/model-dir.js';
import { buildFixtureModel, fixturePreprocess, FIXTURE_LABELS } from '../serve/fixture-model.js';

let tmp: string;
let dir: string;
let data: string;
const images: string[] = [];

/** An 8×8 PNG leaning to one colour channel per class, with per-image texture. */
async function writeImage(path: string, cls: number, k: number): Promise<void> {
  const px = Buffer.alloc(8 * 8 * 3);
  for (let i = 0; i < 64; i++)
    for (let c = 0; c < 3; c++) px[i * 3 + c] = (c === cls ? 180 : 40) + ((i * 13 + k * 29 + c * 7) % 60);
  await sharp(px, { raw: { width: 8, height: 8, channels: 3 } })
    .png()
    .toFile(path);
}

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'graft-quantize-'));
  dir = await buildFixtureModel(join(tmp, 'model'), { convLayers: 2, channels: 8 });
  data = join(tmp, 'data');
  for (const [cls, label] of FIXTURE_LABELS.entries()) {
    await mkdir(join(data, label), { recursive: true });
    for (let k = 0; k < 10; k++) {
      const path = join(data, label, `${k}.png`);
      await writeImage(path, cls, k);
      images.push(path);
    }
  }
});

after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('load({ int8: true }) before quantizing is refused with BAD_OPTION', async () => {
  await assert.rejects(load(dir, { int8: true }), (e) => isGraftError(e) && e.code === 'BAD_OPTION');
});

test('quantizeModelDir writes model.int8.onnx with int8 per-channel weights and int32 biases', async () => {
  const r = await quantizeModelDir(dir, { calibration: data, maxDrop: 100 });
  assert.equal(r.file, join(dir, INT8_MODEL_FILE));
  const bytes = await readFile(r.file);
  assert.equal((await stat(r.file)).size, r.record.bytes);
  const manifest = await readManifest(dir);
  assert.equal(manifest.int8?.file, INT8_MODEL_FILE);
  assert.equal(manifest.int8?.sha256, r.record.sha256);
  assert.equal(manifest.int8?.calibration.examples, 24);
  assert.ok(manifest.int8?.accuracy, 'the accuracy guard ran on the held-out split');

  const q = decodeModel(bytes);
  const fp = decodeModel(await readFile(join(dir, 'model.onnx')));
  const ops = q.graph.nodes.map((n) => n.opType);
  assert.ok(ops.includes('QuantizeLinear') && ops.includes('DequantizeLinear'));
  assert.equal(ops.filter((o) => o === 'Conv').length, 2);
  assert.ok(!ops.includes('Relu'), 'Relu after a quantized Conv is absorbed by the quantization range');
  // Every Conv weight is an int8 initializer read through a per-axis DequantizeLinear whose scales are the
  // float weight's per-output-channel max|w| / 127.
  for (const conv of q.graph.nodes.filter((n) => n.opType === 'Conv')) {
    const dq = q.graph.nodes.find((n) => n.outputs[0] === conv.inputs[1])!;
    assert.equal(dq.opType, 'DequantizeLinear');
    const w = q.graph.initializers.get(dq.inputs[0]!)!;
    assert.equal(w.dtype, 'int8');
    const scale = q.graph.initializers.get(dq.inputs[1]!)!.data as Float32Array;
    const original = [...fp.graph.initializers.values()].find(
      (t) => t.shape.length === 4 && t.shape.join() === w.shape.join(),
    )!;
    const expected = Array.from(absMaxAlong(original.data as Float32Array, original.shape, 0), (m) =>
      Math.fround(m / 127),
    );
    assert.deepEqual(Array.from(scale), expected);
    const biasDq = q.graph.nodes.find((n) => n.outputs[0] === conv.inputs[2])!;
    assert.equal(q.graph.initializers.get(biasDq.inputs[0]!)!.dtype, 'int32');
  }
  assert.ok(r.fp32Bytes / r.record.bytes > 1.3, `size ratio ${r.fp32Bytes / r.record.bytes}`);
});

test('ONNX Runtime fuses the QDQ groups into integer kernels', async () => {
  const optimized = join(tmp, 'optimized.onnx');
  const s = await ort.InferenceSession.create(await readFile(join(dir, INT8_MODEL_FILE)), {
    graphOptimizationLevel: 'all',
    optimizedModelFilePath: optimized,
    logSeverityLevel: 3,
  });
  await s.release();
  const ops = decodeModel(await readFile(optimized), { anyOpset: true }).graph.nodes.map((n) => n.opType);
  assert.equal(ops.filter((o) => o === 'QLinearConv').length, 2, ops.join(' '));
  assert.ok(!ops.includes('Conv'));
});

test("graft's int8 predictions equal a plain InferenceSession's on the same file", async () => {
  const clf = await load(dir, { int8: true });
  const some = images.filter((_, i) => i % 3 === 0);
  const graft = await clf.predictProbs(some);
  await clf.release();
  const session = await ort.InferenceSession.create(await readFile(join(dir, INT8_MODEL_FILE)));
  const x = await preprocessBatch(some, fixturePreprocess(8));
  const out = await session.run({ input: new ort.Tensor('float32', x.data, [...x.shape]) });
  await session.release();
  const plain = out['probabilities']!.data as Float32Array;
  assert.equal(graft.length, plain.length);
  for (let i = 0; i < plain.length; i++) assert.ok(Math.abs(graft[i]! - plain[i]!) <= 1e-6, `${i}`);
  // …and the int8 model is not the float one: some probability differs.
  const fp = await load(dir);
  const fpProbs = await fp.predictProbs(some);
  await fp.release();
  assert.ok(fpProbs.some((p, i) => p !== graft[i]));
  assert.ok(fpProbs.every((p, i) => Math.abs(p - graft[i]!) < 0.1));
});
