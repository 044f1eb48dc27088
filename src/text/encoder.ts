/** A pre-trained text encoder from `file:<dir>` or `hub:<org>/<name>`: ONNX graph + tokenizer, checked. */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { GraftError } from '../errors.js';
import { sha256 } from '../features/cache.js';
import type { Model } from '../onnx/ir.js';
import { decodeModel } from '../onnx/io.js';
import { hubListFiles } from '../sources/api.js';
import { parseSource } from '../sources/parse.js';
import { resolveSource } from '../sources/resolve.js';
import type { ResolveOptions } from '../sources/types.js';
import { loadTokenizer, TOKENIZER_FILES, type TextTokenizer } from './tokenizer.js';

/** Where the ONNX graph sits in a Hugging Face / Optimum / transformers.js repo, in order of preference. */
export const MODEL_CANDIDATES = ['onnx/model.onnx', 'model.onnx'] as const;
const SIDE_FILES = ['config.json', 'preprocessor_config.json', ...TOKENIZER_FILES];

export interface LoadedTextEncoder {
  readonly dir: string;
  readonly modelPath: string;
  readonly model: Model;
  /** sha256 of the model file's bytes. */
  readonly modelHash: string;
  readonly tokenizer: TextTokenizer;
  /** Rows of the word-embedding table (the Gather on input_ids), when it could be found. */
  readonly embeddingRows: number | undefined;
}

export interface LoadTextEncoderOptions {
  /** Options for `hub:` sources (endpoint, cache, offline, token…). */
  hub?: ResolveOptions;
  /** The model file inside the directory (default: onnx/model.onnx, else model.onnx). */
  modelFile?: string;
}

const exists = (p: string) =>
  stat(p)
    .then((s) => s.isFile())
    .catch(() => false);

/** Downloads (hub) or finds (file) the directory holding the encoder and its tokenizer. */
async function resolveDir(source: string, options: LoadTextEncoderOptions): Promise<string> {
  const parsed = parseSource(source);
  if (parsed.kind === 'npm')
    throw new GraftError('BAD_INPUT', `text encoders come from file: or hub: sources, not '${source}'`, {
      source,
    });
  if (parsed.kind === 'file') {
    const r = await resolveSource(source);
    return r.kind === 'file' ? r.dir : '';
  }
  const hub = { ...options.hub, revision: parsed.revision };
  const listed = await hubListFiles(parsed.repo, hub);
  const model = options.modelFile ?? MODEL_CANDIDATES.find((f) => listed.includes(f));
  if (!model || !listed.includes(model))
    throw new GraftError(
      'MODEL_NOT_FOUND',
      `hub repo '${parsed.repo}' has no ${MODEL_CANDIDATES.join(' or ')}`,
      {
        source,
      },
    );
  const files = [model, ...SIDE_FILES.filter((f) => listed.includes(f))];
  const r = await resolveSource(source, { ...options.hub, files });
  return r.kind === 'hub' ? r.dir : '';
}

/** Finds the initializer feeding the Gather whose indices are `inputName` (through Cast/Identity). */
export function embeddingRows(model: Model, inputName = 'input_ids'): number | undefined {
  const g = model.graph;
  const derived = new Set([inputName]);
  for (const n of g.nodes)
    if ((n.opType === 'Cast' || n.opType === 'Identity') && derived.has(n.inputs[0] ?? ''))
      n.outputs.forEach((o) => derived.add(o));
  for (const n of g.nodes) {
    if (n.opType !== 'Gather' || !derived.has(n.inputs[1] ?? '')) continue;
    const table = g.initializers.get(n.inputs[0] ?? '');
    if (table && table.shape.length === 2) return table.shape[0];
  }
  return undefined;
}

/** Throws CORRUPT_MODEL when the tokenizer can produce ids the model's embedding table has no row for. */
export function checkVocab(tokenizer: TextTokenizer, rows: number | undefined, label: string): void {
  if (rows === undefined || tokenizer.vocabSize <= rows) return;
  throw new GraftError(
    'CORRUPT_MODEL',
    `${label}: the tokenizer has ${tokenizer.vocabSize} tokens but the model's word embedding has ${rows} rows`,
    { tokenizerVocab: tokenizer.vocabSize, embeddingRows: rows },
  );
}

export async function loadTextEncoder(
  source: string,
  options: LoadTextEncoderOptions = {},
): Promise<LoadedTextEncoder> {
  const dir = await resolveDir(source, options);
  const candidates = options.modelFile ? [options.modelFile] : MODEL_CANDIDATES;
  let modelPath: string | undefined;
  for (const c of candidates) if (await exists(join(dir, c))) modelPath ??= join(dir, c);
  if (!modelPath)
    throw new GraftError(
      'MODEL_NOT_FOUND',
      `no ${candidates.join(' or ')} in '${dir}' (source '${source}')`,
      {
        source,
        dir,
      },
    );
  const bytes = await readFile(modelPath);
  const model = decodeModel(bytes, { baseDir: join(modelPath, '..'), label: `'${modelPath}'` });
  if (!model.graph.inputs.some((v) => v.name === 'input_ids'))
    throw new GraftError('BAD_INPUT', `'${modelPath}' has no input_ids input: not a text encoder`, {
      path: modelPath,
    });
  const tokenizer = await loadTokenizer(dir);
  const rows = embeddingRows(model);
  checkVocab(tokenizer, rows, `'${source}'`);
  return { dir, modelPath, model, modelHash: sha256(bytes), tokenizer, embeddingRows: rows };
}
