import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isGraftError } from '../../src/errors.js';
import {
  classifierInput,
  hubModelSpec,
  imagePreprocessFrom,
  listHubModels,
  specFromHubRepo,
} from '../../src/models/hub-models.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { createModel, emptyGraph } from '../../src/onnx/ir.js';
import { BERT_DIR, tempDir } from './helpers.js';

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

async function repo(dir: string, files: Record<string, unknown>): Promise<string> {
  for (const [name, value] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), typeof value === 'string' ? value : JSON.stringify(value));
  }
  return dir;
}

describe('hub model registry', () => {
  test('lists the image and text models with their feature conventions', () => {
    const ids = listHubModels().map((m) => m.id);
    for (const id of [
      'hub:Xenova/mobilenet_v2_1.0_224',
      'hub:Xenova/resnet-50',
      'hub:Xenova/vit-base-patch16-224',
      'hub:Xenova/dinov2-small',
      'hub:Xenova/bert-base-uncased',
      'hub:Xenova/distilbert-base-uncased',
      'hub:Xenova/all-MiniLM-L6-v2',
    ])
      assert.ok(ids.includes(id), id);
    const mini = listHubModels().find((m) => m.id.endsWith('MiniLM-L6-v2'))!;
    assert.equal(mini.pooling, 'mean');
    assert.equal(listHubModels().find((m) => m.id.endsWith('bert-base-uncased'))!.pooling, 'cls');
  });

  test('ViT style: size {height,width}, mean/std 0.5, bilinear, no crop', () => {
    const p = imagePreprocessFrom({
      do_normalize: true,
      do_resize: true,
      do_rescale: true,
      rescale_factor: 0.00392156862745098,
      image_mean: [0.5, 0.5, 0.5],
      image_std: [0.5, 0.5, 0.5],
      resample: 2,
      size: { height: 224, width: 224 },
    });
    assert.deepEqual(p, {
      kind: 'image',
      size: [224, 224],
      resizeShorter: 224,
      crop: 'none',
      interpolation: 'bilinear',
      layout: 'NCHW',
      channels: 3,
      scale: 0.00392156862745098,
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
    });
    assert.deepEqual(imagePreprocessFrom({ size: 384 }).size, [384, 384]);
  });

  test('MobileNetV2 / DINOv2 style: shortest_edge + crop_size, bicubic; ConvNeXt crop_pct; no rescale', () => {
    const mobilenet = imagePreprocessFrom({
      crop_size: { height: 224, width: 224 },
      do_center_crop: true,
      size: { shortest_edge: 256 },
      resample: 3,
      image_mean: IMAGENET_MEAN,
      image_std: IMAGENET_STD,
    });
    assert.equal(mobilenet.crop, 'center');
    assert.equal(mobilenet.resizeShorter, 256);
    assert.deepEqual(mobilenet.size, [224, 224]);
    assert.equal(mobilenet.interpolation, 'bicubic');
    assert.deepEqual(mobilenet.mean, IMAGENET_MEAN);
    assert.equal(mobilenet.scale, 1 / 255);
    const resnet = imagePreprocessFrom({ crop_pct: 0.875, size: { shortest_edge: 224 }, resample: 3 });
    assert.equal(resnet.resizeShorter, 256);
    assert.deepEqual(resnet.size, [224, 224]);
    assert.equal(resnet.crop, 'center');
    const raw = imagePreprocessFrom({
      do_rescale: false,
      do_normalize: false,
      crop_size: 32,
      size: 40,
      resample: 0,
    });
    assert.equal(raw.scale, 1);
    assert.deepEqual(
      [raw.mean, raw.std],
      [
        [0, 0, 0],
        [1, 1, 1],
      ],
    );
    assert.deepEqual([raw.size, raw.resizeShorter, raw.interpolation], [[32, 32], 40, 'nearest']);
    const uncropped = imagePreprocessFrom({
      do_center_crop: false,
      crop_size: 200,
      size: { shortest_edge: 256 },
    });
    assert.deepEqual(uncropped.size, [256, 256]);
  });

  test('text repos: maxLength, pooling and lowercase from tokenizer_config/config/sentence-transformers files', async () => {
    assert.deepEqual(await specFromHubRepo(BERT_DIR), {
      kind: 'text',
      maxLength: 128,
      pooling: 'cls',
      normalize: false,
      lowercase: true,
    });
    await using tmp = await tempDir();
    const dir = await repo(tmp.dir, {
      'tokenizer.json': '{}',
      'tokenizer_config.json': { model_max_length: 1e30, do_lower_case: false },
      'config.json': { max_position_embeddings: 256 },
      '1_Pooling/config.json': { pooling_mode_mean_tokens: true, pooling_mode_cls_token: false },
      'modules.json': [{ type: 'sentence_transformers.models.Normalize' }],
    });
    assert.deepEqual(await specFromHubRepo(dir), {
      kind: 'text',
      maxLength: 256,
      pooling: 'mean',
      normalize: true,
      lowercase: false,
    });
  });

  test('hubModelSpec: derived preprocessing, classifier input found in a logits-only graph', async () => {
    await using tmp = await tempDir();
    const dir = await repo(tmp.dir, {
      'preprocessor_config.json': {
        size: { shortest_edge: 224 },
        crop_pct: 0.875,
        image_mean: IMAGENET_MEAN,
      },
    });
    const g = emptyGraph();
    const b = new GraphBuilder(g);
    b.input('pixel_values', 'float32', ['batch', 3, 224, 224]);
    const pooled = b.op('GlobalAveragePool', ['pixel_values'], {}, { name: 'pool' });
    const flat = b.op('Flatten', [pooled], {}, { name: 'flatten' });
    const w = b.constant('w', { dtype: 'float32', shape: [3, 2], data: new Float32Array(6) });
    const bias = b.constant('b', { dtype: 'float32', shape: [2], data: new Float32Array(2) });
    const mm = b.op('MatMul', [flat, w], {}, { name: 'classifier/MatMul' });
    b.op('Add', [mm, bias], {}, { name: 'classifier/Add', outputs: ['logits'] });
    b.output('logits', 'float32', ['batch', 2]);
    const spec = await hubModelSpec('hub:Xenova/resnet-50', dir, createModel(g, 14));
    assert.equal(spec.featureTensor, flat);
    assert.deepEqual(spec.headNodes, ['classifier/MatMul', 'classifier/Add']);
    assert.equal(spec.inputName, 'pixel_values');
    assert.equal(spec.preprocess.kind, 'image');
    assert.deepEqual(classifierInput(createModel(g, 14)).tensor, flat);
    const dino = await hubModelSpec('hub:Xenova/dinov2-small', dir);
    assert.equal(dino.featureTensor, 'pooler_output');
    await assert.rejects(hubModelSpec('hub:Xenova/nope', dir), (e) => isGraftError(e, 'MODEL_NOT_FOUND'));
    await assert.rejects(hubModelSpec('hub:Xenova/dinov2-small', BERT_DIR), (e) =>
      isGraftError(e, 'MODEL_NOT_FOUND'),
    );
    await assert.rejects(specFromHubRepo(join(tmp.dir, 'empty')), (e) => isGraftError(e, 'MODEL_NOT_FOUND'));
  });
});
