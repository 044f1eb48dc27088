/** Imports a model source (npm:, file:, hub:) into graft IR, and derives a spec for unregistered ones. */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GraftError } from '../errors.js';
import { importTfjsModel, tfjsFormat, type TfjsImportOptions } from '../importers/index.js';
import type { Model } from '../onnx/ir.js';
import { loadModel } from '../onnx/io.js';
import { hasTfjsModel, loadNpmTfjsModel, loadTfjsModelDir } from '../sources/npm-models.js';
import { parseSource } from '../sources/parse.js';
import { hubDownload, hubSnapshot } from '../sources/hub.js';
import { hubModelSpec, listHubModels } from './hub-models.js';
import type { ImagePreprocess, ModelFormat, ModelSpec } from './spec.js';

interface Imported {
  readonly spec: ModelSpec;
  readonly model: Model;
}

async function importDir(
  path: string,
  options: TfjsImportOptions,
): Promise<{ model: Model; format: ModelFormat }> {
  if (path.endsWith('.onnx')) return { model: await loadModel(path), format: 'onnx' };
  const dir = existsSync(path) && statSync(path).isFile() ? resolve(path, '..') : path;
  if (existsSync(join(dir, 'model.onnx')))
    return { model: await loadModel(join(dir, 'model.onnx')), format: 'onnx' };
  if (hasTfjsModel(dir)) {
    const files = await loadTfjsModelDir(dir);
    return { model: importTfjsModel(files.json, files.shards, options), format: tfjsFormat(files.json) };
  }
  throw new GraftError('MODEL_NOT_FOUND', `'${path}' holds no model.onnx, model.json or model.min.js`, {
    path,
  });
}

/** A best-effort spec for a model that is not in the registry (preprocessing is a guess from the input). */
export function deriveSpec(source: string, model: Model, format: ModelFormat): ModelSpec {
  const input = model.graph.inputs.find((v) => !model.graph.initializers.has(v.name));
  const shape = input?.shape ?? [];
  const nchw = shape.length === 4 && (shape[1] === 3 || shape[1] === 1) && shape[3] !== 3;
  const dim = (i: number): number => (typeof shape[i] === 'number' ? (shape[i] as number) : 224);
  const size = nchw ? dim(2) : dim(1);
  const channels = (nchw ? shape[1] : shape[3]) === 1 ? 1 : 3;
  const preprocess: ImagePreprocess = {
    kind: 'image',
    size: [size, nchw ? dim(3) : dim(2)],
    resizeShorter: size,
    crop: 'none',
    interpolation: 'bilinear',
    layout: nchw ? 'NCHW' : 'NHWC',
    channels,
    scale: 1 / 255,
    mean: new Array<number>(channels).fill(0),
    std: new Array<number>(channels).fill(1),
  };
  return {
    id: source,
    description: `unregistered ${format} model from ${source} (preprocessing guessed from its input)`,
    task: 'image',
    format,
    source,
    inputName: input?.name ?? '',
    preprocess,
    featureTensor: model.graph.outputs[0]?.name ?? '',
    headNodes: [],
    candidateFeatures: [],
    license: 'unknown',
  };
}

/** Imports the model a source names; `spec` is used as-is when the source is registered. */
export async function importSource(
  source: string,
  spec: ModelSpec | undefined,
  options: TfjsImportOptions = {},
): Promise<Imported> {
  const parsed = parseSource(source);
  let model: Model;
  let format: ModelFormat;
  if (parsed.kind === 'npm') {
    const files = await loadNpmTfjsModel(parsed.package, parsed.path);
    model = importTfjsModel(files.json, files.shards, options);
    format = tfjsFormat(files.json);
  } else if (parsed.kind === 'file') {
    ({ model, format } = await importDir(resolve(parsed.path), options));
  } else {
    return importHub(source, parsed.repo, parsed.revision, spec);
  }
  return { spec: spec ?? deriveSpec(source, model, format), model };
}

/** Files of the Hugging Face / transformers.js layout that describe preprocessing (present or not). */
const HUB_OPTIONAL = ['preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json'];

/**
 * A hub repo in the transformers.js/Optimum layout: `onnx/model.onnx` and `config.json`, plus whichever
 * preprocessing files exist; the spec comes from those files, not from a table.
 */
async function importHub(
  source: string,
  repo: string,
  revision: string,
  spec: ModelSpec | undefined,
): Promise<Imported> {
  const dir = await hubSnapshot(repo, ['onnx/model.onnx', 'config.json'], { revision });
  for (const file of HUB_OPTIONAL) {
    await hubDownload(repo, file, { revision }).catch((e: unknown) => {
      if (!(e instanceof GraftError && e.code === 'MODEL_NOT_FOUND')) throw e;
    });
  }
  const model = await loadModel(join(dir, 'onnx', 'model.onnx'));
  const known = listHubModels().some((m) => m.id === source);
  return {
    spec: spec ?? (known ? await hubModelSpec(source, dir, model) : deriveSpec(source, model, 'onnx')),
    model,
  };
}
