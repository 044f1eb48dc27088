/**
 * Streaming, batched feature extraction: read batch k+1's files while ONNX Runtime runs batch k, decode them
 * between runs, look every example up in the content-addressed cache first, and extract only what is missing.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Example, ImageSource } from '../data/types.js';
import { GraftError, isGraftError } from '../errors.js';
import type { ImagePreprocess } from '../models/spec.js';
import type { Model } from '../onnx/ir.js';
import { batchShape, imageLength, preprocessInto } from '../preprocess/image.js';
import { imagePipelineId } from '../preprocess/image-native.js';
import { normalizationTables } from '../preprocess/image-normalize.js';
import { isRawImage } from '../preprocess/image-types.js';
import { imageLimits } from '../preprocess/limits.js';
import { Session, type SessionOptions } from '../runtime/session.js';
import { FeatureCache, modelSha256, sha256 } from './cache.js';
import { int8FeatureKey, int8Prefix, type Int8Extraction, type Int8Prefix } from './int8-prefix.js';
import { exampleBytes, readSources } from './read-sources.js';
import { extractionProgress, type ExtractProgress } from './progress.js';
import { viewCacheKey, viewImage, type FeatureView } from './views.js';

export type { ExtractProgress } from './progress.js';
import { buildPooledPrefix, type PooledPrefix } from './pooled-prefix.js';

export interface FeatureExtractorOptions {
  batchSize?: number;
  /**
   * Images of a batch queued for decoding at once. Default: the whole batch (decoded between ONNX Runtime's
   * runs); libuv's thread pool (UV_THREADPOOL_SIZE, default 4) bounds how many decode in parallel.
   */
  decodeConcurrency?: number;
  /** Feature cache directory; `false` disables the cache. Default: $GRAFT_CACHE or ~/.cache/graft. */
  cacheDir?: string | false;
  session?: SessionOptions;
  /**
   * Extract through an int8 copy of the backbone prefix (see src/quantize and int8-prefix.ts): its activation
   * ranges are calibrated on `calibration` (a few hundred examples), streamed through the same preprocessing;
   * with a cache directory the int8 model is kept under `<cacheDir>/int8/` and the same calibration is not
   * done twice. Or `cached`: the int8 model another process made.
   */
  int8?: Int8Extraction;
}

export interface ExtractOptions {
  onBadInput?: 'skip' | 'fail';
  onProgress?: (p: ExtractProgress) => void;
  signal?: AbortSignal;
  /** Extract an augmented view of every example instead of the example itself (see views.ts). */
  view?: FeatureView;
}

/** Pooled feature matrices, one per requested tensor, for the examples that could be read. */
export interface FeatureSet {
  tensors: string[];
  dims: number[];
  /** Row-major [examples × dims[i]] per tensor. */
  matrices: Float32Array[];
  labels: Int32Array;
  ids: string[];
  /** Examples that could not be read (skipped under onBadInput 'skip'). */
  skipped: { id: string; reason: string }[];
  /** How many rows came from the cache, and how many were run through the backbone. */
  fromCache: number;
  extracted: number;
}

export function defaultCacheDir(): string {
  return process.env['GRAFT_CACHE'] ?? join(homedir(), '.cache', 'graft');
}

/** Where feature cache files live under a cache directory (default: defaultCacheDir()). */
export const featureCacheDir = (cacheDir?: string): string => join(cacheDir ?? defaultCacheDir(), 'features');

/**
 * The cache key of image features: model bytes, preprocessing, the decoder that applies it (and whether it
 * accepts partly decodable images), input and feature tensors. Every writer (graft train, graft extract, graft worker) names its cache file with this.
 */
export function featureCacheKey(
  backbone: Model,
  inputName: string,
  preprocess: ImagePreprocess,
  tensors: readonly string[],
): string {
  return sha256(
    [
      modelSha256(backbone),
      JSON.stringify(preprocess),
      imagePipelineId(preprocess),
      inputName,
      ...tensors,
      // features of partly decoded images must not be served from the cache to a run that refuses them
      ...(imageLimits().allowTruncated ? ['allow-truncated'] : []),
    ].join('\n'),
  );
}

interface Prepared {
  rows: number[];
  keys: string[];
  input: Float32Array;
}

interface Preparing {
  /** Decodes the batch's images (its files are being read since it was prepared). */
  decode: () => Promise<Prepared | undefined>;
}

export class FeatureExtractor {
  private buffer: Float32Array | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    /** The model that runs: the pooled prefix, or its int8 copy. */
    readonly model: Model,
    /** The int8 copy's identity, when extracting through one. */
    readonly int8: Omit<Int8Prefix, 'model'> | undefined,
    /** The key its features are cached under (whether or not this extractor has a cache). */
    readonly featureKey: string,
    private readonly session: Session,
    readonly prefix: PooledPrefix,
    readonly tensors: readonly string[],
    private readonly inputName: string,
    private readonly preprocess: ImagePreprocess,
    private readonly cache: FeatureCache | undefined,
    private readonly batchSize: number,
    private readonly decodeConcurrency: number,
  ) {}

  static async create(
    backbone: Model,
    inputName: string,
    preprocess: ImagePreprocess,
    tensors: readonly string[],
    options: FeatureExtractorOptions = {},
  ): Promise<FeatureExtractor> {
    const shape = batchShape(1, preprocess);
    const prefix = await buildPooledPrefix(backbone, inputName, tensors, shape, options.session);
    const floatKey = featureCacheKey(backbone, inputName, preprocess, tensors);
    const int8 = options.int8
      ? await int8Prefix(
          prefix.model,
          inputName,
          preprocess,
          floatKey,
          options.int8,
          options.cacheDir === false ? undefined : (options.cacheDir ?? defaultCacheDir()),
          options.session,
        )
      : undefined;
    const model = int8?.model ?? prefix.model;
    // An int8 extractor's features differ from the float ones: its key adds the int8 model's hash.
    const key = int8 ? int8FeatureKey(floatKey, int8.sha256) : floatKey;
    // Decoding happens between runs (see extractNow), so ONNX Runtime's threads may spin within a run.
    const session = await Session.create(model, { spinWait: 'within-runs', ...options.session });
    const cache =
      options.cacheDir === false ? undefined : new FeatureCache(featureCacheDir(options.cacheDir), key);
    return new FeatureExtractor(
      model,
      int8 && { id: int8.id, sha256: int8.sha256, built: int8.built },
      key,
      session,
      prefix,
      tensors,
      inputName,
      preprocess,
      cache,
      options.batchSize ?? 32,
      Math.max(1, Math.floor(options.decodeConcurrency ?? Number.MAX_SAFE_INTEGER)),
    );
  }

  /**
   * Extracts pooled features for `examples`; cached rows are looked up by the content hash of their bytes (so
   * renamed or moved files still hit the cache). Calls on one extractor run one after another (they share its
   * batch buffer).
   */
  extract(examples: readonly Example<ImageSource>[], options: ExtractOptions = {}): Promise<FeatureSet> {
    const run = this.queue.then(() => this.extractNow(examples, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async extractNow(
    examples: readonly Example<ImageSource>[],
    options: ExtractOptions,
  ): Promise<FeatureSet> {
    const policy = options.onBadInput ?? 'skip';
    const n = examples.length;
    const dims = this.prefix.dims;
    const perTensor: (Float32Array | undefined)[][] = dims.map(() => new Array(n));
    const skipped: FeatureSet['skipped'] = [];
    const todo: { row: number; key: string; bytes: Uint8Array | ImageSource }[] = [];
    let fromCache = 0;
    const view = options.view;

    for (let row = 0; row < n; row++) {
      if (options.signal?.aborted) throw new GraftError('CANCELLED', 'feature extraction cancelled');
      const ex = examples[row]!;
      // No cache, no key (a view needs one: its generator is seeded by it): the decoder reads the files.
      if (!this.cache && !view) todo.push({ row, key: '', bytes: ex.source });
      if (!this.cache && !view) continue;
      let bytes: Uint8Array;
      try {
        bytes = await exampleBytes(ex.source);
      } catch (e) {
        if (policy === 'fail' || !isGraftError(e)) throw e;
        skipped.push({ id: ex.id, reason: e.message });
        continue;
      }
      const key = view ? viewCacheKey(sha256(bytes), view) : sha256(bytes);
      const hit = this.cache?.get(key);
      if (hit && this.split(hit, perTensor, row)) {
        fromCache++;
        continue;
      }
      // A file is read again when its batch is decoded (from the page cache, normally) rather than held
      // here: a large data set's misses would otherwise all sit in memory at once.
      todo.push({
        row,
        key,
        bytes: typeof ex.source === 'string' || isRawImage(ex.source) ? ex.source : bytes,
      });
    }

    const advance = extractionProgress(n, fromCache, options.onProgress);

    const per = imageLength(this.preprocess);
    const tables = normalizationTables(this.preprocess);
    const buffer = this.batchBuffer(per);
    // A batch is prepared in two steps: its files are read while the previous batch runs, then all its images
    // are decoded at once on libuv's pool, once that run has ended: ONNX Runtime's parallel sections wait for
    // their slowest thread, so a decode that takes a core from one of its threads stalls the other as well.
    // Between runs the decodes have both cores; within a run ONNX Runtime has them.
    const prepare = (from: number): Preparing => {
      if (from >= todo.length) return { decode: () => Promise.resolve(undefined) };
      const items = todo.slice(from, from + this.batchSize);
      const reading = readSources(items.map((it) => it.bytes));
      reading.catch(() => undefined); // awaited in decode
      const decode = async (): Promise<Prepared> => {
        const sources = await reading;
        const input = buffer.subarray(0, per * items.length);
        const ok = new Array<boolean>(items.length).fill(false);
        let next = 0;
        const worker = async (): Promise<void> => {
          while (next < items.length) {
            const i = next++;
            const id = examples[items[i]!.row]!.id;
            try {
              const source = view ? await viewImage(sources[i]!, items[i]!.key, view) : sources[i]!;
              await preprocessInto(source, this.preprocess, input, i * per, { name: id }, tables);
              ok[i] = true;
            } catch (e) {
              if (policy === 'fail' || !isGraftError(e)) throw e;
              skipped.push({ id, reason: e.message });
            }
          }
        };
        const workers = Math.min(this.decodeConcurrency, items.length);
        await Promise.all(Array.from({ length: workers }, worker));
        const keep = items.filter((_, i) => ok[i]);
        const packed = keep.length === items.length ? input : new Float32Array(per * keep.length);
        if (packed !== input) {
          let j = 0;
          ok.forEach((good, i) => good && packed.set(input.subarray(i * per, (i + 1) * per), per * j++));
        }
        return { rows: keep.map((it) => it.row), keys: keep.map((it) => it.key), input: packed };
      };
      return { decode };
    };

    let batch = await prepare(0).decode();
    for (let from = 0; from < todo.length; from += this.batchSize) {
      if (options.signal?.aborted) throw new GraftError('CANCELLED', 'feature extraction cancelled');
      const next = prepare(from + this.batchSize);
      if (batch && batch.rows.length > 0) {
        const feeds = {
          [this.inputName]: {
            dtype: 'float32' as const,
            shape: batchShape(batch.rows.length, this.preprocess),
            data: batch.input,
          },
        };
        const out = await this.session.run(feeds, this.prefix.outputs);
        const records: [string, Float32Array][] = [];
        const keys = batch.keys;
        batch.rows.forEach((row, i) => {
          const parts = this.prefix.outputs.map((name, t) => {
            const d = dims[t]!;
            return (out[name]!.data as Float32Array).slice(i * d, (i + 1) * d);
          });
          parts.forEach((p, t) => (perTensor[t]![row] = p));
          if (this.cache) records.push([keys[i]!, concat(parts)]);
        });
        this.cache?.putMany(records);
      }
      advance(Math.min(this.batchSize, todo.length - from));
      batch = await next.decode();
    }
    return this.assemble(examples, perTensor, skipped, fromCache);
  }

  /**
   * The batch buffer, kept for the extractor's life: a fresh 20 MB one costs page faults on every batch, and
   * per call tens of milliseconds on the first one.
   */
  private batchBuffer(per: number): Float32Array {
    const length = per * this.batchSize;
    if (this.buffer?.length !== length) this.buffer = new Float32Array(length);
    return this.buffer;
  }

  async release(): Promise<void> {
    this.buffer = undefined;
    this.cache?.close();
    await this.session.release();
  }

  private split(flat: Float32Array, perTensor: (Float32Array | undefined)[][], row: number): boolean {
    const total = this.prefix.dims.reduce((a, b) => a + b, 0);
    if (flat.length !== total) return false;
    let off = 0;
    this.prefix.dims.forEach((d, t) => {
      perTensor[t]![row] = flat.subarray(off, off + d);
      off += d;
    });
    return true;
  }

  private assemble(
    examples: readonly Example<ImageSource>[],
    perTensor: (Float32Array | undefined)[][],
    skipped: FeatureSet['skipped'],
    fromCache: number,
  ): FeatureSet {
    const rows = examples.map((_, i) => i).filter((i) => perTensor[0]![i] !== undefined);
    const matrices = this.prefix.dims.map((d, t) => {
      const m = new Float32Array(rows.length * d);
      rows.forEach((r, i) => m.set(perTensor[t]![r]!, i * d));
      return m;
    });
    return {
      tensors: [...this.tensors],
      dims: [...this.prefix.dims],
      matrices,
      labels: Int32Array.from(rows.map((r) => examples[r]!.label)),
      ids: rows.map((r) => examples[r]!.id),
      skipped,
      fromCache,
      extracted: rows.length - fromCache,
    };
  }
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
