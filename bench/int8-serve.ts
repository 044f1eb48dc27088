/**
 * `graft serve` fp32 vs `graft serve --int8` on the same model directory: each round starts one server per side
 * (a child node, as `graft serve` runs), warms it up, then sends the same requests from the same fixed number of
 * keep-alive clients; the sides alternate which goes first from round to round. Reports requests/s and images/s
 * (the rows the server ran, from its /metrics batch counters) per side as the median and range over rounds, the
 * ratio of medians and the per-round (paired) ratios, latencies, mean batch, and the raw batch-32 forward rate of
 * each ONNX file for context. The load generator shares the cores with the server (bench/util/serve-client.ts).
 *
 *   node --import tsx bench/int8-serve.ts <model-dir with model.int8.onnx> [--rounds 3] [--requests 300]
 *        [--concurrency 16] [--max-batch 32] [--max-wait-ms 5] [--threads n] [--formats png,jpeg] [--json out.json]
 */
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { INT8_MODEL_FILE, MODEL_FILE, readManifest } from '../src/export/manifest.js';
import { alternate, pairedRatios, showSpread, spread, type Spread } from './util/rounds.js';
import { fmt, median } from './util/stats.js';
import {
  batchCounters,
  loadTest,
  parseFormats,
  rawThroughput,
  requestImages,
  startServer,
} from './util/serve-client.js';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '3' },
    requests: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '16' },
    'max-batch': { type: 'string', default: '32' },
    'max-wait-ms': { type: 'string', default: '5' },
    threads: { type: 'string' },
    formats: { type: 'string', default: 'png,jpeg' },
    json: { type: 'string' },
  },
});
const dir = positionals[0];
if (!dir)
  throw new Error('usage: bench/int8-serve.ts <model-dir> (quantized first: graft quantize <model-dir>)');
const manifest = await readManifest(dir);
if (!manifest.int8) throw new Error(`${dir} has no model.int8.onnx: run graft quantize ${dir} first`);
const ROUNDS = Number(args.rounds);
const REQUESTS = Number(args.requests);
const CONCURRENCY = Number(args.concurrency);
const THREADS = args.threads ? Number(args.threads) : cpus().length;
const FORMATS = parseFormats(args.formats);
const images = await requestImages(dir, 64, FORMATS);

interface Round {
  requestsPerSecond: number;
  imagesPerSecond: number;
  p50: number;
  p99: number;
  meanBatch: number;
  errors: number;
}

async function serveRound(int8: boolean): Promise<Round> {
  const target = await startServer(dir!, {
    maxBatch: Number(args['max-batch']),
    maxWaitMs: Number(args['max-wait-ms']),
    threads: THREADS,
    int8,
  });
  try {
    await loadTest(target.url, images, 2 * CONCURRENCY, CONCURRENCY); // warm-up, not counted
    const before = await batchCounters(target.url);
    const r = await loadTest(target.url, images, REQUESTS, CONCURRENCY);
    const after = await batchCounters(target.url);
    const rows = after.rows - before.rows;
    return {
      requestsPerSecond: REQUESTS / r.seconds,
      imagesPerSecond: rows / r.seconds,
      p50: r.p50,
      p99: r.p99,
      meanBatch: rows / (after.runs - before.runs),
      errors: r.errors,
    };
  } finally {
    await target.stop();
  }
}

const load0 = loadavg();
const raw = async () => ({
  fp32: await rawThroughput(join(dir, MODEL_FILE), manifest, images, THREADS),
  int8: await rawThroughput(join(dir, INT8_MODEL_FILE), manifest, images, THREADS),
});
const rawBefore = await raw();
const results = await alternate(
  ROUNDS,
  { fp32: () => serveRound(false), int8: () => serveRound(true) },
  (r, got) =>
    console.error(
      `round ${r + 1}: fp32 ${fmt(got.fp32.requestsPerSecond)} req/s, int8 ${fmt(got.int8.requestsPerSecond)} req/s` +
        ` (load average ${loadavg()[0]!.toFixed(1)})`,
    ),
);
const rawAfter = await raw();
const load1 = loadavg();

const of = (side: 'fp32' | 'int8', key: keyof Round): number[] => results[side].map((r) => r[key]);
const side = (s: 'fp32' | 'int8'): Record<string, Spread | number> => ({
  requestsPerSecond: spread(of(s, 'requestsPerSecond')),
  imagesPerSecond: spread(of(s, 'imagesPerSecond')),
  p50Ms: spread(of(s, 'p50')),
  p99Ms: spread(of(s, 'p99')),
  meanBatch: spread(of(s, 'meanBatch')),
  errors: of(s, 'errors').reduce((a, b) => a + b, 0),
});
const paired = pairedRatios(of('int8', 'imagesPerSecond'), of('fp32', 'imagesPerSecond'));
const report = {
  model: dir,
  int8: { file: INT8_MODEL_FILE, bytes: manifest.int8.bytes, accuracy: manifest.int8.accuracy ?? null },
  rounds: ROUNDS,
  requestsPerRound: REQUESTS,
  concurrency: CONCURRENCY,
  threads: THREADS,
  formats: FORMATS,
  fp32: side('fp32'),
  int8Serve: side('int8'),
  ratioOfMedianImagesPerSecond: median(of('int8', 'imagesPerSecond')) / median(of('fp32', 'imagesPerSecond')),
  pairedRatios: paired,
  rawForwardImagesPerSecond: { before: rawBefore, after: rawAfter },
  rawForwardRatio: (rawBefore.int8 + rawAfter.int8) / (rawBefore.fp32 + rawAfter.fp32),
  loadAverage: { start: load0, end: load1 },
};
console.error(
  `images/s: fp32 ${showSpread(of('fp32', 'imagesPerSecond'))}, int8 ${showSpread(of('int8', 'imagesPerSecond'))}; ` +
    `ratio of medians ${fmt(report.ratioOfMedianImagesPerSecond)}, paired ${showSpread(paired)}; ` +
    `raw forward ratio ${fmt(report.rawForwardRatio)}`,
);
console.log(JSON.stringify(report, null, 2));
if (args.json) await writeFile(args.json, `${JSON.stringify(report, null, 2)}\n`);
