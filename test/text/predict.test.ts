import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { writeManifest, type ModelManifest } from '../../src/export/manifest.js';
import { GraphBuilder, attr } from '../../src/onnx/builder.js';
import { saveModel } from '../../src/onnx/io.js';
import { emptyGraph } from '../../src/onnx/ir.js';
import { append } from '../../src/onnx/surgery.js';
import { Classifier } from '../../src/predict/classifier.js';
import '../../src/text/index.js';
import { copyTokenizerFiles, TextFeatureExtractor, TEXT_FEATURES } from '../../src/text/index.js';
import { BERT_DIR, BERT_SOURCE, tempDir } from './helpers.js';

describe('text classifier export + predict', () => {
  test('encoder + pooling + head in one model.onnx; Classifier.predict takes texts', async () => {
    await using tmp = await tempDir();
    const fx = await TextFeatureExtractor.create(BERT_SOURCE, {
      pooling: 'mean',
      normalize: true,
      cacheDir: false,
    });
    const D = fx.dim;
    // A fixed 2-class linear head: class 0 score = feature[0], class 1 score = -feature[0].
    const head = emptyGraph('head');
    const b = new GraphBuilder(head);
    b.input('x', 'float32', ['batch', D]);
    const w = new Float32Array(D * 2);
    w[0] = 20;
    w[1] = -20;
    const wt = b.constant('w', { dtype: 'float32', shape: [D, 2], data: w });
    const logits = b.op('MatMul', ['x', wt]);
    b.op('Softmax', [logits], { axis: attr.int(1) }, { outputs: ['probabilities'] });
    b.output('probabilities', 'float32', ['batch', 2]);
    const graph = append(fx.pooledModel.graph, head, TEXT_FEATURES);
    await saveModel({ ...fx.pooledModel, graph }, join(tmp.dir, 'model.onnx'));
    await copyTokenizerFiles(BERT_DIR, tmp.dir);
    const manifest: ModelManifest = {
      format: 'graft-model',
      version: 1,
      task: 'text-classification',
      labels: ['pos', 'neg'],
      inputs: ['input_ids', 'attention_mask', 'token_type_ids'],
      output: graph.outputs[0]!.name,
      preprocess: { kind: 'text', maxLength: 24, pooling: 'mean', normalize: true, lowercase: true },
      base: { id: BERT_SOURCE, sha256: fx.encoder.modelHash },
      featureTensor: TEXT_FEATURES,
      head: {},
      training: {},
      metrics: {},
      createdAt: new Date(0).toISOString(),
      graftVersion: '0.1.0',
    };
    await writeManifest(tmp.dir, manifest);
    const texts = ['I love this movie', 'The quick brown fox jumps over the lazy dog.'];
    const feats = await fx.embed(texts);
    await fx.release();

    const clf = await Classifier.load(tmp.dir);
    const preds = await clf.predict(
      [...texts.map((text) => ({ text })), { text: '' }, { text: 'ok '.repeat(500) }],
      {
        topK: 2,
      },
    );
    assert.equal(preds.length, 4);
    texts.forEach((_, i) => {
      const p0 = 1 / (1 + Math.exp(-40 * feats[i * D]!));
      assert.equal(preds[i]!.label, p0 >= 0.5 ? 'pos' : 'neg');
      const pos = preds[i]!.top.find((t) => t.label === 'pos')!;
      assert.ok(Math.abs(pos.probability - p0) < 1e-4, `${pos.probability} vs ${p0}`);
    });
    for (const p of preds.slice(2)) assert.ok(Number.isFinite(p.probability));
    await clf.release();
  });
});
