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
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { SERVE_V8_FLAGS, serveEnvironment } from '../src/cli/respawn.js';
import { MODEL_FILE, readManifest } from '../src/export/manifest.js';
import { preprocessBatch } from '../src/preprocess/image.js';
import { createServer } from '../src/serve/app.js';
import { buildFixtureModel } from '../test/serve/fixture-model.js';

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
const FORMATS = args.formats.split(',').map((f) => {
  if (f !== 'png' && f !== 'jpeg') throw new Error(`--formats takes png and/or jpeg, not '${f}'`);
  return f;
});
const root = await mkdtemp(join(tmpdir(), 'graft-serve-bench-'));

/** A smooth, photo-like test image (gradients + a little noise), PNG or JPEG. */
async function photo(seed: number, w: number, h: number, format: 'png' | 'jpeg'): Promise<Uint8Array> {
  const data = Buffer.alloc(w * h * 3);
  let s = seed * 7919 + 1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const n = (s >>> 30) - 2;
      const i = (y * w + x) * 3;
      data[i] = 128 + 100 * Math.sin((x + seed * 13) / (9 + (seed % 7))) + n;
      data[i + 1] = 128 + 100 * Math.cos((y + seed * 5) / (11 + (seed % 5))) + n;
      data[i + 2] = ((x + y + seed * 3) * 255) / (w + h) + n;
    }
  }
  const img = sharp(data, { raw: { width: w, height: h, channels: 3 } });
  return new Uint8Array(await (format === 'png' ? img.png() : img.jpeg({ quality: 85 })).toBuffer());
}

/** Raw forward throughput: batch-32 ORT runs on an already-preprocessed tensor, images/s. */
async function rawThroughput(dir: string, images: readonly Uint8Array[]): Promise<number> {
  const manifest = await readManifest(dir);
  if (manifest.preprocess.kind !== 'image')
    throw new Error('the load test sends images; this is a text model');
  const session = await ort.InferenceSession.create(join(dir, MODEL_FILE), {
    intraOpNumThreads: THREADS,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const batch = Array.from({ length: 32 }, (_, i) => images[i % images.length]!);
  const t = await preprocessBatch(batch, manifest.preprocess);
  const feeds = { [manifest.inputs[0]!]: new ort.Tensor('float32', t.data, [...t.shape]) };
  for (let i = 0; i < 3; i++) await session.run(feeds, [manifest.output]);
  let runs = 0;
  const start = performance.now();
  while (runs < 5 || performance.now() - start < 2000) {
    await session.run(feeds, [manifest.output]);
    runs++;
  }
  const seconds = (performance.now() - start) / 1000;
  await session.release();
  return (runs * 32) / seconds;
}

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

interface Target {
  url: string;
  stop: () => Promise<number | null>;
}

async function startTarget(dir: string): Promise<Target> {
  const options = { port: 0, maxBatch: Number(args['max-batch']), maxWaitMs: Number(args['max-wait-ms']) };
  if (args['in-process']) {
    const s = await createServer(dir, { ...options, threads: THREADS });
    return { url: s.url, stop: async () => (await s.close(), 0) };
  }
  const cli = fileURLToPath(new URL('../src/cli/commands/serve.ts', import.meta.url));
  const script = `const { runServe } = await import(${JSON.stringify(cli)});
process.exitCode = await runServe(${JSON.stringify(dir)}, ${JSON.stringify({ ...options, threads: THREADS })});`;
  const proc: ChildProcess = spawn(
    process.execPath,
    // Started as `graft serve` starts its server (src/cli/respawn.ts).
    [...SERVE_V8_FLAGS, '--import', 'tsx', '--input-type=module', '-e', script],
    { stdio: ['ignore', 'pipe', 'inherit'], env: serveEnvironment() },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
  return { url, stop: async () => (proc.kill('SIGTERM'), exited) };
}

const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

/**
 * One POST over a keep-alive connection with node:http (a light client, as wrk would be: fetch's own CPU per
 * request would otherwise be taken from the server sharing these cores). Resolves to the status code.
 */
function post(agent: http.Agent, url: URL, type: string, body: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': type, 'content-length': body.length } },
      (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function load(url: string, images: readonly Uint8Array[], total: number) {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const types = images.map((b) => (b[0] === 0x89 ? 'image/png' : 'image/jpeg'));
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const target = new URL(`${url}/predict`);
  const client = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      try {
        const status = await post(agent, target, types[i % images.length]!, images[i % images.length]!);
        if (status !== 200) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t0);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { seconds, errors, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
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

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
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
  const images = await Promise.all(
    Array.from({ length: 64 }, (_, i) =>
      photo(i + 1, Math.round(w * 1.25), Math.round(h * 1.25), FORMATS[i % FORMATS.length]!),
    ),
  );
  // Raw forward throughput before and after the load, averaged: the machine's speed drifts (other tenants).
  const rawBefore = await rawThroughput(dir, images);
  const pre = await preprocessThroughput(dir, images);
  const target = await startTarget(dir);
  await load(target.url, images, Math.min(REQUESTS, 2 * CONCURRENCY)); // warm-up, not counted
  const before = await (await fetch(`${target.url}/metrics`)).text();
  const r =
    args.client === 'wrk'
      ? await loadWithWrk(target.url, images, Number(args.seconds))
      : { requests: REQUESTS, ...(await load(target.url, images, REQUESTS)) };
  const after = await (await fetch(`${target.url}/metrics`)).text();
  const runs = metric(after, 'graft_batch_size_count') - metric(before, 'graft_batch_size_count');
  const rows = metric(after, 'graft_batch_size_sum') - metric(before, 'graft_batch_size_sum');
  const exit = await target.stop();
  const rawAfter = await rawThroughput(dir, images);
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
