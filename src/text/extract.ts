/**
 * Text feature extraction: tokenise, run encoder + pooling (one ONNX graph) in length-sorted batches with
 * dynamic padding, and keep pooled vectors in the content-addressed FeatureCache.
 */
import { join } from 'node:path';
import type { Example } from '../data/types.js';
import { GraftError } from '../errors.js';
import { FeatureCache, sha256 } from '../features/cache.js';
import { defaultCacheDir, type ExtractOptions, type FeatureSet } from '../features/extract.js';
import { extractionProgress } from '../features/progress.js';
import type { Model } from '../onnx/ir.js';
import { Session, type SessionOptions } from '../runtime/session.js';
import type { Tensor } from '../tensor.js';
import { encodeText, packEncoded, type EncodedBatch, type EncodedText } from './encode.js';
import { loadTextEncoder, type LoadedTextEncoder, type LoadTextEncoderOptions } from './encoder.js';
import { appendPooling, TEXT_FEATURES, type TextPooling } from './pooling.js';
import { TextWarnings, type TextWarning } from './warnings.js';

export interface TextFeatureExtractorOptions extends LoadTextEncoderOptions {
  /** Default 'cls'. */
  pooling?: TextPooling;
  /** L2-normalise the pooled vectors. Default false. */
  normalize?: boolean;
  /** Default: the tokenizer's model_max_length capped at 512, else 128. */
  maxLength?: number;
  batchSize?: number;
  /** Feature cache directory; `false` disables the cache. Default: $GRAFT_CACHE or ~/.cache/graft. */
  cacheDir?: string | false;
  session?: SessionOptions;
  /** Encoder output with the token states. Default 'last_hidden_state'. */
  hiddenOutput?: string;
}

export interface TextFeatureSet extends FeatureSet {
  warnings: TextWarning[];
}

/** The feeds a text encoder takes, from an encoded batch (models without token_type_ids get none). */
export function textFeeds(batch: EncodedBatch, inputs: readonly string[]): Record<string, Tensor> {
  const all: Record<string, Tensor> = {
    input_ids: batch.input_ids,
    attention_mask: batch.attention_mask,
    token_type_ids: batch.token_type_ids,
  };
  const feeds: Record<string, Tensor> = {};
  for (const name of inputs) {
    const t = all[name];
    if (!t) throw new GraftError('UNSUPPORTED_OP', `text encoder input '${name}' is not one graft can fill`);
    feeds[name] = t;
  }
  return feeds;
}

export class TextFeatureExtractor {
  readonly tensors: readonly string[] = [TEXT_FEATURES];

  private constructor(
    readonly encoder: LoadedTextEncoder,
    /** Encoder + pooling: its one output is TEXT_FEATURES [batch, dim]. Append a head to it for export. */
    readonly pooledModel: Model,
    readonly dim: number,
    readonly maxLength: number,
    readonly pooling: TextPooling,
    readonly normalize: boolean,
    private readonly session: Session,
    private readonly cache: FeatureCache | undefined,
    private readonly batchSize: number,
  ) {}

  static async create(
    source: string,
    options: TextFeatureExtractorOptions = {},
  ): Promise<TextFeatureExtractor> {
    return TextFeatureExtractor.fromEncoder(await loadTextEncoder(source, options), options);
  }

  static async fromEncoder(
    encoder: LoadedTextEncoder,
    options: TextFeatureExtractorOptions = {},
  ): Promise<TextFeatureExtractor> {
    const pooling = options.pooling ?? 'cls';
    const normalize = options.normalize ?? false;
    const maxLength = options.maxLength ?? Math.min(encoder.tokenizer.modelMaxLength ?? 128, 512);
    const pooled = appendPooling(encoder.model, { pooling, normalize, hiddenOutput: options.hiddenOutput });
    const session = await Session.create(pooled, options.session);
    const inputs = session.inputNames;
    const probe = packEncoded([encodeText(encoder.tokenizer, 'a', maxLength)], 0, encoder.tokenizer.padId);
    const out = (await session.run(textFeeds(probe, inputs), [TEXT_FEATURES]))[TEXT_FEATURES]!;
    const dim = out.shape[1]!;
    pooled.graph.outputs[0]!.shape = ['batch', dim];
    let cache: FeatureCache | undefined;
    if (options.cacheDir !== false) {
      const key = sha256(
        [
          'text',
          encoder.modelHash,
          encoder.tokenizer.hash,
          maxLength,
          pooling,
          normalize,
          options.hiddenOutput ?? '',
        ]
          .map(String)
          .join('\n'),
      );
      cache = new FeatureCache(join(options.cacheDir ?? defaultCacheDir(), 'features'), key);
    }
    return new TextFeatureExtractor(
      encoder,
      pooled,
      dim,
      maxLength,
      pooling,
      normalize,
      session,
      cache,
      options.batchSize ?? 32,
    );
  }

  /** Pooled features of raw texts, row-major [texts × dim] (uses and fills the cache). */
  async embed(texts: readonly string[], options: ExtractOptions = {}): Promise<Float32Array> {
    const examples = texts.map((t, i) => ({ id: String(i), label: 0, source: t }));
    return (await this.extract(examples, options)).matrices[0]!;
  }

  /** Example key: sha256 of the text. Empty texts are encoded as the special tokens alone (and warned about). */
  async extract(examples: readonly Example<string>[], options: ExtractOptions = {}): Promise<TextFeatureSet> {
    const n = examples.length;
    const rows: (Float32Array | undefined)[] = new Array(n);
    const warnings = new TextWarnings();
    const skipped: FeatureSet['skipped'] = [];
    const todo: { row: number; key: string; enc: EncodedText }[] = [];
    let fromCache = 0;
    for (let row = 0; row < n; row++) {
      const ex = examples[row]!;
      if (typeof ex.source !== 'string') {
        if (options.onBadInput === 'fail')
          throw new GraftError('BAD_INPUT', `${ex.id}: text is not a string`);
        skipped.push({ id: ex.id, reason: 'text is not a string' });
        continue;
      }
      warnings.inspect(ex.id, ex.source);
      const key = sha256(ex.source);
      const hit = this.cache?.get(key);
      if (hit && hit.length === this.dim) {
        rows[row] = hit;
        fromCache++;
        continue;
      }
      const enc = encodeText(this.encoder.tokenizer, ex.source, this.maxLength);
      if (enc.truncated) warnings.add('TRUNCATED', ex.id);
      todo.push({ row, key, enc });
    }
    todo.sort((a, b) => a.enc.ids.length - b.enc.ids.length);
    const advance = extractionProgress(n, fromCache, options.onProgress);
    for (let from = 0; from < todo.length; from += this.batchSize) {
      if (options.signal?.aborted) throw new GraftError('CANCELLED', 'feature extraction cancelled');
      const items = todo.slice(from, from + this.batchSize);
      const batch = packEncoded(
        items.map((it) => it.enc),
        0,
        this.encoder.tokenizer.padId,
      );
      const out = await this.session.run(textFeeds(batch, this.session.inputNames), [TEXT_FEATURES]);
      const data = out[TEXT_FEATURES]!.data as Float32Array;
      const records: [string, Float32Array][] = items.map((it, i) => {
        const v = data.slice(i * this.dim, (i + 1) * this.dim);
        rows[it.row] = v;
        return [it.key, v];
      });
      this.cache?.putMany(records);
      advance(items.length);
    }
    const kept = examples.map((_, i) => i).filter((i) => rows[i] !== undefined);
    const matrix = new Float32Array(kept.length * this.dim);
    kept.forEach((r, i) => matrix.set(rows[r]!, i * this.dim));
    return {
      tensors: [TEXT_FEATURES],
      dims: [this.dim],
      matrices: [matrix],
      labels: Int32Array.from(kept.map((r) => examples[r]!.label)),
      ids: kept.map((r) => examples[r]!.id),
      skipped,
      fromCache,
      extracted: kept.length - fromCache,
      warnings: warnings.toArray(),
    };
  }

  async release(): Promise<void> {
    this.cache?.close();
    await this.session.release();
  }
}
