/** Contract test over every registry entry: import, run a batch, features and candidates exist. */
import assert from 'node:assert/strict';
import { parseFeatureId } from '../../src/features/feature-id.js';
import { test } from 'node:test';
import { getModelSpec, listModels, loadBackbone } from '../../src/models/registry.js';
import { Session } from '../../src/runtime/session.js';

/** Documented feature widths. */
const FEATURE_WIDTH: Record<string, number> = {
  'npm:nsfwjs/mobilenet_v2': 1280,
  'npm:nsfwjs/inception_v3': 2048,
  'npm:nsfwjs/mobilenet_v2_mid': 1792,
};

test('registry lists the nsfwjs backbones with complete specs', () => {
  const ids = listModels().map((s) => s.id);
  assert.deepEqual(ids, Object.keys(FEATURE_WIDTH));
  for (const id of ids) {
    const s = getModelSpec(id);
    assert.equal(s.id, id);
    assert.match(s.license, /MIT/);
    assert.ok(s.source.startsWith('npm:nsfwjs/'));
    assert.ok(s.preprocess.kind === 'image' && s.preprocess.layout === 'NHWC');
    assert.ok(s.preprocess.kind === 'image' && Math.abs(s.preprocess.scale - 1 / 255) < 1e-12);
  }
});

for (const spec of listModels()) {
  test(`contract: ${spec.id}`, async () => {
    const { model } = await loadBackbone(spec.id);
    const g = model.graph;
    assert.equal(g.inputs[0]!.name, spec.inputName);
    const produced = new Set(g.nodes.flatMap((n) => n.outputs));
    for (const id of [spec.featureTensor, ...spec.candidateFeatures])
      assert.ok(produced.has(parseFeatureId(id).tensor), `tensor ${id}`);
    const nodeNames = new Set(g.nodes.map((n) => n.name));
    for (const n of spec.headNodes) assert.ok(nodeNames.has(n), `head node ${n}`);
    assert.ok(spec.preprocess.kind === 'image');
    const [h, w] = spec.preprocess.size;
    const batch = 2;
    const data = new Float32Array(batch * h * w * 3).map((_, i) => (i % 255) / 255);
    const probe = { ...model, graph: { ...g, outputs: [...g.outputs, { name: spec.featureTensor }] } };
    const session = await Session.create(probe, { threads: 2 });
    try {
      const out = await session.run({
        [spec.inputName]: { dtype: 'float32', shape: [batch, h, w, 3], data },
      });
      assert.deepEqual(out[spec.featureTensor]!.shape, [batch, FEATURE_WIDTH[spec.id]]);
      const probs = out[g.outputs[0]!.name]!;
      assert.deepEqual(probs.shape, [batch, 5]);
      const row = Array.from(probs.data as Float32Array).slice(0, 5);
      assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-4);
    } finally {
      await session.release();
    }
  });
}

test('loadBackbone caches the import and hands out independent copies', async () => {
  const a = await loadBackbone('npm:nsfwjs/mobilenet_v2');
  const b = await loadBackbone('npm:nsfwjs/mobilenet_v2');
  assert.notEqual(a.model.graph, b.model.graph);
  assert.equal(
    a.model.graph.initializers.get('Conv1/kernel'),
    b.model.graph.initializers.get('Conv1/kernel'),
  );
  a.model.graph.nodes.pop();
  assert.equal(b.model.graph.nodes.length, a.model.graph.nodes.length + 1);
});

test('loadBackbone reads file: directories holding a TF.js model.json or a model.onnx', async () => {
  const { mkdtemp, writeFile, rm, mkdir } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { sequentialModel } = await import('../importers/keras-fixtures.js');
  const { saveModel } = await import('../../src/onnx/io.js');
  const dir = await mkdtemp(join(tmpdir(), 'graft-backbone-'));
  try {
    const { json, shards } = sequentialModel();
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    await writeFile(join(dir, 'shard1'), shards.get('shard1')!);
    const keras = await loadBackbone(`file:${dir}`);
    assert.equal(keras.spec.format, 'keras-layers');
    assert.equal(keras.spec.inputName, 'sc1_input');
    assert.deepEqual(keras.spec.preprocess.kind === 'image' && keras.spec.preprocess.size, [8, 8]);
    const onnxDir = join(dir, 'onnx');
    await mkdir(onnxDir);
    await saveModel(keras.model, join(onnxDir, 'model.onnx'));
    const onnx = await loadBackbone(`file:${onnxDir}`);
    assert.equal(onnx.spec.format, 'onnx');
    assert.equal(onnx.model.graph.nodes.length, keras.model.graph.nodes.length);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
