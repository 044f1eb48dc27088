/**
 * Runs one batch-prediction shard through a trained model directory (loaded once per worker): images are read
 * once and checked against their content keys, texts go as they are. A batch with a bad input is retried one
 * input at a time, so only that input gets an error row (or, under `fail`, the shard fails naming it).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GraftError, isGraftError } from '../errors.js';
import { MANIFEST_FILE, MODEL_FILE } from '../export/manifest.js';
import { sha256 } from '../features/cache.js';
import { Classifier, type PredictInput } from '../predict/classifier.js';
import { readChecked, type EngineOptions } from './extract-shard.js';
import type { PredictionRow, PredictShardJob, PredictShardResult, ShardItem } from './jobs.js';

/** sha256 of a model directory's model.onnx and graft.json: what a prediction job is pinned to. */
export async function modelDirHash(dir: string): Promise<string> {
  try {
    const parts = await Promise.all([readFile(join(dir, MODEL_FILE)), readFile(join(dir, MANIFEST_FILE))]);
    return sha256(Buffer.concat([sha256(parts[0]), sha256(parts[1])].map((h) => Buffer.from(h, 'hex'))));
  } catch (e) {
    throw new GraftError(
      'MODEL_NOT_FOUND',
      `cannot read the model directory '${dir}'`,
      { dir },
      { cause: e },
    );
  }
}

export class PredictEngine {
  private constructor(
    readonly modelDir: string,
    readonly modelHash: string,
    private readonly classifier: Classifier,
  ) {}

  static async open(modelDir: string, options: EngineOptions): Promise<PredictEngine> {
    const hash = await modelDirHash(modelDir);
    const clf = await Classifier.load(modelDir, options.threads ? { threads: options.threads } : {});
    return new PredictEngine(modelDir, hash, clf);
  }

  get isText(): boolean {
    return this.classifier.manifest.preprocess.kind === 'text';
  }

  matches(job: PredictShardJob): boolean {
    return job.modelDir === this.modelDir && job.modelHash === this.modelHash;
  }

  async run(job: PredictShardJob): Promise<PredictShardResult> {
    if (job.modelHash !== this.modelHash) {
      throw new GraftError(
        'BAD_OPTION',
        `shard ${job.shard + 1}/${job.shards}: '${job.modelDir}' on this worker is not the model the job was ` +
          `submitted with (model.onnx or graft.json differ)`,
      );
    }
    const rows: PredictionRow[] = [];
    for (let start = 0; start < job.items.length; start += job.batchSize) {
      rows.push(...(await this.batch(job, job.items.slice(start, start + job.batchSize))));
    }
    return { kind: 'predict', rows };
  }

  private async batch(job: PredictShardJob, items: readonly ShardItem[]): Promise<PredictionRow[]> {
    const inputs: (PredictInput | string)[] = await Promise.all(
      items.map(async (it) => (this.isText ? { text: it.source } : await readChecked(it))),
    );
    const bad = inputs.findIndex((x) => typeof x === 'string');
    if (bad < 0) {
      try {
        return await this.predictRows(items, inputs as PredictInput[], job.topK);
      } catch (e) {
        if (!isGraftError(e, 'BAD_INPUT') || items.length === 1) throw e;
      }
    }
    if (items.length > 1) {
      const one: PredictionRow[] = [];
      for (const item of items) one.push(...(await this.single(job, item)));
      return one;
    }
    return this.single(job, items[0]!);
  }

  /** One input alone: its prediction, or an error row (skip), or the shard's failure (fail). */
  private async single(job: PredictShardJob, item: ShardItem): Promise<PredictionRow[]> {
    const input = this.isText ? { text: item.source } : await readChecked(item);
    try {
      if (typeof input === 'string') throw new GraftError('BAD_INPUT', input, { file: item.source });
      return await this.predictRows([item], [input], job.topK);
    } catch (e) {
      if (!isGraftError(e, 'BAD_INPUT')) throw e;
      const reason = e.message.includes(item.source) ? e.message : `${e.message} (input '${item.source}')`;
      if (job.onBadInput === 'fail') throw new GraftError('BAD_INPUT', reason, { file: item.source });
      return [{ input: item.id, error: reason }];
    }
  }

  private async predictRows(
    items: readonly ShardItem[],
    inputs: readonly PredictInput[],
    topK: number,
  ): Promise<PredictionRow[]> {
    const preds = await this.classifier.predict(inputs, { topK, batchSize: inputs.length });
    return preds.map((p, i) => ({
      input: items[i]!.id,
      label: p.label,
      probability: p.probability,
      top: p.top,
    }));
  }

  release(): Promise<void> {
    return this.classifier.release();
  }
}
