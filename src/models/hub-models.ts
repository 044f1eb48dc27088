/**
 * Well-known ONNX models on the Hugging Face hub in the transformers.js / Optimum layout (`onnx/model.onnx` plus
 * the processor files). Preprocessing is never hard-coded here: `specFromHubRepo` derives it from the repo's
 * preprocessor_config.json (images) or tokenizer_config.json + config.json (text).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GraftError } from '../errors.js';
import type { Model, Node } from '../onnx/ir.js';
import { readJson, textPreprocessFrom } from '../text/hub-config.js';
import type { ImagePreprocess, ModelSpec, Preprocess } from './spec.js';

export interface HubModelEntry {
  readonly id: string;
  readonly task: 'image' | 'text';
  readonly description: string;
  readonly license: string;
  readonly inputName: 'pixel_values' | 'input_ids';
  /** Where features are read: an encoder output by name, or the classifier's input (for logits-only exports). */
  readonly feature: 'pooler_output' | 'last_hidden_state' | 'classifier_input';
  /** Text: how token states are pooled (CLS for BERT-style, mean for sentence-transformers). */
  readonly pooling?: 'cls' | 'mean';
  readonly normalize?: boolean;
}

const text = (
  id: string,
  description: string,
  pooling: 'cls' | 'mean',
  normalize = false,
): HubModelEntry => ({
  id,
  task: 'text',
  description,
  license: 'apache-2.0',
  inputName: 'input_ids',
  feature: 'last_hidden_state',
  pooling,
  normalize,
});

const image = (
  id: string,
  description: string,
  feature: HubModelEntry['feature'],
  license = 'apache-2.0',
): HubModelEntry => ({ id, task: 'image', description, license, inputName: 'pixel_values', feature });

const ENTRIES: readonly HubModelEntry[] = [
  image(
    'hub:Xenova/mobilenet_v2_1.0_224',
    'MobileNetV2 1.0 (ImageNet-1k classifier, 224); 1280-d features before the classifier',
    'classifier_input',
    'other (TensorFlow models)',
  ),
  image(
    'hub:Xenova/resnet-50',
    'ResNet-50 (ImageNet-1k classifier, 224); 2048-d pooled features',
    'classifier_input',
  ),
  image(
    'hub:Xenova/vit-base-patch16-224',
    'ViT-B/16 (ImageNet-21k + 1k classifier, 224); 768-d CLS token features',
    'classifier_input',
  ),
  image(
    'hub:Xenova/dinov2-small',
    'DINOv2 ViT-S/14 (self-supervised); 384-d pooled CLS features',
    'pooler_output',
  ),
  text('hub:Xenova/bert-base-uncased', 'BERT base uncased; 768-d CLS token features', 'cls'),
  text('hub:Xenova/distilbert-base-uncased', 'DistilBERT base uncased; 768-d CLS token features', 'cls'),
  text(
    'hub:Xenova/all-MiniLM-L6-v2',
    'MiniLM-L6 sentence embeddings; 384-d mean-pooled, L2-normalised',
    'mean',
    true,
  ),
];

export function listHubModels(): HubModelEntry[] {
  return [...ENTRIES];
}

export function getHubModel(id: string): HubModelEntry {
  const e = ENTRIES.find((x) => x.id === id);
  if (!e)
    throw new GraftError(
      'MODEL_NOT_FOUND',
      `unknown hub model '${id}'; known: ${ENTRIES.map((x) => x.id).join(', ')}`,
      {
        id,
      },
    );
  return e;
}

type Json = Record<string, unknown>;

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const triple = (v: unknown, fallback: number): number[] =>
  Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number')
    ? (v as number[])
    : typeof v === 'number'
      ? [v, v, v]
      : [fallback, fallback, fallback];

/** `size`/`crop_size` in any of HF's forms: 224, [h, w], {height, width}, {shortest_edge}. */
function parseSize(v: unknown): { hw?: [number, number]; shortest?: number } {
  if (typeof v === 'number') return { hw: [v, v] };
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number'))
    return { hw: [...(v as [number, number])] };
  if (typeof v === 'object' && v !== null) {
    const o = v as Json;
    const h = num(o['height']);
    const w = num(o['width']);
    if (h && w) return { hw: [h, w] };
    const s = num(o['shortest_edge']);
    if (s) return { shortest: s };
  }
  return {};
}

/** PIL resample codes: 0 nearest, 2 bilinear, 3 bicubic; lanczos (1) maps to bicubic, box/hamming to bilinear. */
function interpolation(code: unknown): ImagePreprocess['interpolation'] {
  if (code === 0) return 'nearest';
  if (code === 3 || code === 1) return 'bicubic';
  return 'bilinear';
}

/**
 * From preprocessor_config.json. Approximations (graft resizes by the shorter side then centre-crops, or
 * squashes to a fixed size): {height,width} + centre crop resizes by the shorter side to `height`;
 * {shortest_edge} without a crop crops the centre square; `crop_pct` (ConvNeXt) resizes to shortest/crop_pct
 * and crops shortest (below 384). Missing mean/std: 0.5.
 */
export function imagePreprocessFrom(cfg: Json): ImagePreprocess {
  const size = parseSize(cfg['size']);
  const cropSize = parseSize(cfg['crop_size']);
  const doCrop = cfg['do_center_crop'] !== false && cropSize.hw !== undefined;
  const cropPct = num(cfg['crop_pct']);
  let out: [number, number];
  let resizeShorter: number;
  let crop: ImagePreprocess['crop'] = 'center';
  if (doCrop) {
    out = cropSize.hw!;
    resizeShorter = size.shortest ?? size.hw?.[0] ?? Math.min(...out);
  } else if (size.shortest !== undefined) {
    const s = size.shortest;
    out = [s, s];
    resizeShorter = cropPct && s < 384 ? Math.floor(s / cropPct) : s;
  } else {
    out = size.hw ?? [224, 224];
    resizeShorter = Math.min(...out);
    crop = 'none';
  }
  if (cfg['do_resize'] === false && !doCrop) crop = 'none';
  const rescale = cfg['do_rescale'] === false ? 1 : (num(cfg['rescale_factor']) ?? 1 / 255);
  const normalize = cfg['do_normalize'] !== false;
  return {
    kind: 'image',
    size: out,
    resizeShorter,
    crop,
    interpolation: interpolation(cfg['resample']),
    layout: 'NCHW',
    channels: 3,
    scale: rescale,
    mean: normalize ? triple(cfg['image_mean'], 0.5) : [0, 0, 0],
    std: normalize ? triple(cfg['image_std'], 0.5) : [1, 1, 1],
  };
}

/** Preprocessing of a downloaded hub repo: image when it has preprocessor_config.json, else text. */
export async function specFromHubRepo(dir: string, hints: Partial<HubModelEntry> = {}): Promise<Preprocess> {
  if (hints.task !== 'text') {
    const cfg = await readJson(join(dir, 'preprocessor_config.json'));
    if (cfg) return imagePreprocessFrom(cfg);
    if (hints.task === 'image')
      throw new GraftError('MODEL_NOT_FOUND', `no preprocessor_config.json in '${dir}'`, { dir });
  }
  const hasTokenizer = (await readFile(join(dir, 'tokenizer.json')).catch(() => undefined)) !== undefined;
  if (!hasTokenizer && !(await readJson(join(dir, 'tokenizer_config.json'))))
    throw new GraftError('MODEL_NOT_FOUND', `'${dir}' has neither preprocessor_config.json nor a tokenizer`, {
      dir,
    });
  return textPreprocessFrom(dir, hints);
}

/**
 * For logits-only classifier exports: the tensor the final classifier reads and the classifier's nodes
 * (walking back from `logits` through Add-bias and Gemm/MatMul).
 */
export function classifierInput(model: Model, output = 'logits'): { tensor: string; headNodes: string[] } {
  const g = model.graph;
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  const head: string[] = [];
  let cur = producer.get(output);
  while (cur) {
    head.push(cur.name);
    const data = cur.inputs.filter((i) => i && !g.initializers.has(i));
    if (cur.opType === 'Gemm' || cur.opType === 'MatMul')
      return { tensor: data[0]!, headNodes: head.reverse() };
    if (cur.opType !== 'Add' || data.length !== 1) break;
    cur = producer.get(data[0]!);
  }
  throw new GraftError(
    'UNSUPPORTED_OP',
    `cannot find the classifier (Gemm/MatMul) that produces '${output}'`,
    {
      output,
    },
  );
}

/** The registry spec of a hub model whose files are in `dir`; pass the loaded graph to resolve feature names. */
export async function hubModelSpec(id: string, dir: string, model?: Model): Promise<ModelSpec> {
  const e = getHubModel(id);
  const preprocess = await specFromHubRepo(dir, e);
  let featureTensor: string = e.feature;
  let headNodes: string[] = [];
  if (e.feature === 'classifier_input' && model)
    ({ tensor: featureTensor, headNodes } = classifierInput(model));
  return {
    id: e.id,
    description: e.description,
    task: e.task,
    format: 'onnx',
    source: e.id,
    inputName: e.inputName,
    preprocess,
    featureTensor,
    headNodes,
    candidateFeatures: [],
    license: e.license,
  };
}
