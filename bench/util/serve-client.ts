/**
 * The pieces of a `graft serve` load test that more than one benchmark uses (bench/serve-load.ts,
 * bench/int8-serve.ts): photo-like request images, a server started as `graft serve` starts it (a child node
 * with SERVE_V8_FLAGS), a keep-alive node:http load generator with a fixed concurrency, and the server's
 * batch-size counters from /metrics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { SERVE_V8_FLAGS, serveEnvironment } from '../../src/cli/respawn.js';
import { readManifest, type ModelManifest } from '../../src/export/manifest.js';
import { preprocessBatch } from '../../src/preprocess/image.js';
import { createServer } from '../../src/serve/app.js';

/** A smooth, photo-like test image (gradients + a little noise), PNG or JPEG. */
export async function photo(seed: number, w: number, h: number, format: 'png' | 'jpeg'): Promise<Uint8Array> {
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

/** The `--formats` flag: request image encodings, png and/or jpeg, comma-separated. */
export function parseFormats(flag: string): ('png' | 'jpeg')[] {
  return flag.split(',').map((f) => {
    if (f !== 'png' && f !== 'jpeg') throw new Error(`--formats takes png and/or jpeg, not '${f}'`);
    return f;
  });
}

/** `count` request images for an image model directory, 1.25× its input size, cycling through `formats`. */
export async function requestImages(
  dir: string,
  count: number,
  formats: readonly ('png' | 'jpeg')[],
): Promise<Uint8Array[]> {
  const manifest = await readManifest(dir);
  if (manifest.preprocess.kind !== 'image')
    throw new Error('the load test sends images; pass an image model');
  const [h, w] = manifest.preprocess.size;
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      photo(i + 1, Math.round(w * 1.25), Math.round(h * 1.25), formats[i % formats.length]!),
    ),
  );
}

/** Raw forward throughput of the ONNX file `file`: batch-32 ORT runs on an already-preprocessed tensor, images/s. */
export async function rawThroughput(
  file: string,
  manifest: ModelManifest,
  images: readonly Uint8Array[],
  threads: number,
): Promise<number> {
  if (manifest.preprocess.kind !== 'image')
    throw new Error('the load test sends images; this is a text model');
  const session = await ort.InferenceSession.create(file, {
    intraOpNumThreads: threads,
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

export interface ServerOptions {
  maxBatch: number;
  maxWaitMs: number;
  threads: number;
  /** Serve model.int8.onnx (`graft serve --int8`). */
  int8?: boolean;
  /** Run the server in this process instead of a child node. */
  inProcess?: boolean;
}

export interface Target {
  url: string;
  /** Stops the server; resolves with its exit code (0 in-process). */
  stop: () => Promise<number | null>;
}

/** Starts a server for `dir`, as `graft serve` does (a child node with SERVE_V8_FLAGS), unless `inProcess`. */
export async function startServer(dir: string, o: ServerOptions): Promise<Target> {
  const options = { port: 0, maxBatch: o.maxBatch, maxWaitMs: o.maxWaitMs, int8: o.int8 ?? false };
  if (o.inProcess) {
    const s = await createServer(dir, { ...options, threads: o.threads });
    return { url: s.url, stop: async () => (await s.close(), 0) };
  }
  const cli = fileURLToPath(new URL('../../src/cli/commands/serve.ts', import.meta.url));
  const script = `const { runServe } = await import(${JSON.stringify(cli)});
process.exitCode = await runServe(${JSON.stringify(dir)}, ${JSON.stringify({ ...options, threads: o.threads })});`;
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

export interface LoadResult {
  seconds: number;
  errors: number;
  /** Latency quantiles, ms. */
  p50: number;
  p99: number;
}

/** `total` POST /predict requests (one image each, round robin) from `concurrency` keep-alive clients. */
export async function loadTest(
  url: string,
  images: readonly Uint8Array[],
  total: number,
  concurrency: number,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const types = images.map((b) => (b[0] === 0x89 ? 'image/png' : 'image/jpeg'));
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
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
  await Promise.all(Array.from({ length: concurrency }, client));
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { seconds, errors, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

/** A counter or gauge from /metrics' Prometheus text. */
export function metric(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** The server's forward passes and rows so far (graft_batch_size_count / _sum). */
export async function batchCounters(url: string): Promise<{ runs: number; rows: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return { runs: metric(text, 'graft_batch_size_count'), rows: metric(text, 'graft_batch_size_sum') };
}
