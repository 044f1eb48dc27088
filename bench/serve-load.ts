/**
 * Loopback load test for `graft serve`: N requests (default 1000) from C concurrent clients (default 32), one
 * encoded image per request, against a server in a child process (or in-process with --in-process). Reports
 * requests/s, p50/p99 latency, errors, the server's mean batch size, and the ratio of served images/s to the raw
 * batch-32 forward throughput of the same model.onnx run with onnxruntime-node on preprocessed tensors (measured
 * before and after the load, averaged).
 *
 *   node --import tsx bench/serve-load.ts [model-dir] [--requests 1000] [--concurrency 32] [--max-wait-ms 5]
 *        [--threads n] [--in-process] [--fixture-size 8] [--fixture-convs 0] [--formats png,jpeg] [--json out.json]
 *        [--client node|wrk] [--seconds 6]
 *
 * The load generator shares the cores with the server. `--client node` (default) is node:http with keep-alive
 * (~0.6 ms of CPU per request); `--client wrk` drives the same requests with wrk (Debian package `wrk`, a C
 * client at a small fraction of that), for `--seconds` instead of a request count.
 *
 * Without a model directory it builds the test fixture (test/serve/fixture-model.ts); --fixture-size 224
 * --fixture-convs 2 makes a compute-bound stand-in. A real MobileNetV2 artifact comes from `graft train`.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MODEL_FILE, readManifest } from '../src/export/manifest.js';
import { preprocessBatch } from '../src/preprocess/image.js';
import { buildFixtureModel } from '../test/serve/fixture-model.js';
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
    requests: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '32' },
    'max-wait-ms': { type: 'string', default: '5' },
    'max-batch': { type: 'string', default: '32' },
    threads: { type: 'string' },
    'in-process': { type: 'boolean', default: false },
    'fixture-size': { type: 'string', default: '8' },
    'fixture-convs': { type: 'string', default: '0' },
    formats: { type: 'string', default: 'png,jpeg' },
    client: { type: 'string', default: 'node' },
    seconds: { type: 'string', default: '6' },
    json: { type: 'string' },
  },
});
const REQUESTS = Number(args.requests);
const CONCURRENCY = Number(args.concurrency);
const THREADS = args.threads ? Number(args.threads) : cpus().length;
/** Request images cycle through these encodings (photo-like 1.25x the model's size: ~220 KB PNG, ~10 KB JPEG). */
const FORMATS = parseFormats(args.formats);
const root = await mkdtemp(join(tmpdir(), 'graft-serve-bench-'));

/** Decode + resize + normalise throughput (preprocessBatch, as the server runs it), images/s. */
async function preprocessThroughput(dir: string, images: readonly Uint8Array[]): Promise<number> {
  const manifest = await readManifest(dir);
  if (manifest.preprocess.kind !== 'image') throw new Error('not an image model');
  let n = 0;
  const start = performance.now();
  while (n < 2 * images.length || performance.now() - start < 1000) {
    await preprocessBatch(images, manifest.preprocess);
    n += images.length;
  }
  return n / ((performance.now() - start) / 1000);
}

/** wrk's Lua side: POST the image files round robin; print the summary as one JSON line at the end. */
const WRK_SCRIPT = `
local bodies, types = {}, {}
for p in string.gmatch(os.getenv("GRAFT_IMAGES"), "%S+") do
  local f = io.open(p, "rb"); bodies[#bodies + 1] = f:read("*a"); f:close()
  types[#types + 1] = p:match("%.png$") and "image/png" or "image/jpeg"
end
local n = 0
request = function()
  n = n % #bodies + 1
  return wrk.format("POST", "/predict", { ["Content-Type"] = types[n] }, bodies[n])
end
done = function(summary, latency)
  local e = summary.errors
  io.write(string.format('WRK {"requests":%d,"us":%d,"errors":%d,"p50":%d,"p99":%d}\\n', summary.requests,
    summary.duration, e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50),
    latency:percentile(99)))
end
`;

async function loadWithWrk(url: string, images: readonly Uint8Array[], seconds: number) {
  const dir = join(root, 'wrk');
  await mkdir(dir, { recursive: true });
  const paths = await Promise.all(
    images.map(async (b, i) => {
      const path = join(dir, `${i}.${b[0] === 0x89 ? 'png' : 'jpg'}`);
      await writeFile(path, b);
      return path;
    }),
  );
  const script = join(dir, 'post.lua');
  await writeFile(script, WRK_SCRIPT);
  const args = ['-t1', `-c${CONCURRENCY}`, `-d${seconds}s`, '-s', script, url];
  const proc = spawn('wrk', args, { env: { ...process.env, GRAFT_IMAGES: paths.join(' ') } });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    proc.once('error', reject);
    proc.once('close', resolve);
  });
  const line = /^WRK (.*)$/m.exec(out);
  if (code !== 0 || !line) throw new Error(`wrk failed (exit ${code}):\n${out}`);
  const r = JSON.parse(line[1]!) as {
    requests: number;
    us: number;
    errors: number;
    p50: number;
    p99: number;
  };
  return {
    requests: r.requests,
    seconds: r.us / 1e6,
    errors: r.errors,
    p50: r.p50 / 1000,
    p99: r.p99 / 1000,
  };
}

try {
  const dir =
    positionals[0] ??
    (await buildFixtureModel(join(root, 'model'), {
      size: Number(args['fixture-size']),
      convLayers: Number(args['fixture-convs']),
    }));
  const manifest = await readManifest(dir);
  if (manifest.preprocess.kind !== 'image') throw new Error('serve-load sends images; pass an image model');
  const [h, w] = manifest.preprocess.size;
  const images = await requestImages(dir, 64, FORMATS);
  // Raw forward throughput before and after the load, averaged: the machine's speed drifts (other tenants).
  const rawBefore = await rawThroughput(join(dir, MODEL_FILE), manifest, images, THREADS);
  const pre = await preprocessThroughput(dir, images);
  const target = await startServer(dir, {
    maxBatch: Number(args['max-batch']),
    maxWaitMs: Number(args['max-wait-ms']),
    threads: THREADS,
    inProcess: args['in-process'],
  });
  await loadTest(target.url, images, Math.min(REQUESTS, 2 * CONCURRENCY), CONCURRENCY); // warm-up, not counted
  const before = await batchCounters(target.url);
  const r =
    args.client === 'wrk'
      ? await loadWithWrk(target.url, images, Number(args.seconds))
      : { requests: REQUESTS, ...(await loadTest(target.url, images, REQUESTS, CONCURRENCY)) };
  const after = await batchCounters(target.url);
  const runs = after.runs - before.runs;
  const rows = after.rows - before.rows;
  const exit = await target.stop();
  const rawAfter = await rawThroughput(join(dir, MODEL_FILE), manifest, images, THREADS);
  const raw = (rawBefore + rawAfter) / 2;
  const rps = r.requests / r.seconds;
  const report = {
    model: dir,
    input: `${h}x${w}`,
    bytesPerImage: Math.round(images.reduce((n, b) => n + b.length, 0) / images.length),
    mode: args['in-process'] ? 'in-process' : 'child process',
    client: args.client === 'wrk' ? 'wrk' : 'node:http',
    requests: r.requests,
    concurrency: CONCURRENCY,
    threads: THREADS,
    requestsPerSecond: Number(rps.toFixed(1)),
    p50Ms: Number(r.p50.toFixed(2)),
    p99Ms: Number(r.p99.toFixed(2)),
    errors: r.errors,
    meanBatch: Number((rows / runs).toFixed(2)),
    rawForwardImagesPerSecond: Number(raw.toFixed(1)),
    rawBeforeAndAfter: [Number(rawBefore.toFixed(1)), Number(rawAfter.toFixed(1))],
    preprocessImagesPerSecond: Number(pre.toFixed(1)),
    servedToRawRatio: Number((rps / raw).toPrecision(3)),
    serverExit: exit,
  };
  console.log(JSON.stringify(report, null, 2));
  if (args.json) await writeFile(args.json, `${JSON.stringify(report, null, 2)}\n`);
} finally {
  await rm(root, { recursive: true, force: true });
}
