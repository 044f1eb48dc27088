/**
 * Scale-out overhead: the same extraction (MobileNetV2 pooled features of MNIST digit files) by 2 `graft
 * worker` processes × 1 ONNX Runtime thread through a local Redis, against this process running the shards
 * itself with 2 threads. Both sides run the same planned shards (hashing and planning are outside the timing),
 * both are warm (model loaded, one warm-up round each), each round writes into a fresh cache directory, and
 * the sides alternate. Goal: queue ≥ 0.9× local throughput.
 *
 *   npm run build && node --import tsx bench/scale-out.ts [--files 4096] [--rounds 3] [--shard-size 256]
 *     [--image-size 28x28]
 *
 * Needs redis-server (scripts/setup.sh installs it) and dist/ (the workers run bin/graft.js).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ShardBackend } from '../src/scale/backend.js';
import { planExtraction } from '../src/scale/extract-plan.js';
import { LocalBackend } from '../src/scale/local-backend.js';
import { resolveExtractOptions } from '../src/scale/options.js';
import { QueueBackend } from '../src/scale/queue-backend.js';
import { RedisServer } from '../test/scale/redis-server.js';
import { makeImageFiles } from './util/images.js';
import { fmt, median } from './util/stats.js';

const BIN = new URL('../bin/graft.js', import.meta.url).pathname;
const MODEL = 'npm:nsfwjs/mobilenet_v2';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      files: { type: 'string', default: '4096' },
      rounds: { type: 'string', default: '3' },
      'shard-size': { type: 'string', default: '256' },
      'image-size': { type: 'string', default: '28x28' },
    },
  });
  if (!existsSync(new URL('../dist/cli/main.js', import.meta.url)))
    throw new Error('the workers run bin/graft.js: run `npm run build` first');
  const [w, h] = values['image-size'].split('x').map(Number) as [number, number];
  const count = Number(values.files);
  const files = await makeImageFiles(count, w, h);
  const root = mkdtempSync(join(tmpdir(), 'graft-bench-scale-'));
  const manifest = join(root, 'manifest.csv');
  writeFileSync(manifest, ['path', ...files.examples.map((e) => e.source)].join('\n'));
  const warmManifest = join(root, 'warm.csv');
  writeFileSync(warmManifest, ['path', ...files.examples.slice(0, 256).map((e) => e.source)].join('\n'));

  const redis = await RedisServer.start();
  const workers = [1, 2].map(() =>
    spawn(process.execPath, [BIN, 'worker', '--queue', redis.url, '--threads', '1', '--quiet'], {
      stdio: 'inherit',
    }),
  );
  const local = new LocalBackend({ threads: 2 });
  const queue = await QueueBackend.connect(redis.url, { pollMs: 100 });
  let cacheN = 0;
  const round = async (backend: ShardBackend, data: string): Promise<number> => {
    const o = resolveExtractOptions({
      data,
      model: MODEL,
      features: 'final',
      shardSize: Number(values['shard-size']),
      cacheDir: join(root, `cache-${cacheN++}`),
    });
    const plan = await planExtraction(o, () => {});
    const t0 = performance.now();
    const failures = await backend.run(plan.shards);
    const s = (performance.now() - t0) / 1000;
    if (failures.length > 0) throw new Error(failures[0]!.reason);
    rmSync(plan.cacheDir, { recursive: true, force: true });
    return plan.unique / s;
  };
  try {
    await round(local, warmManifest);
    await round(queue, warmManifest);
    const rates = { local: [] as number[], queue: [] as number[] };
    for (let r = 0; r < Number(values.rounds); r++) {
      const order = r % 2 === 0 ? (['local', 'queue'] as const) : (['queue', 'local'] as const);
      for (const side of order) {
        const rate = await round(side === 'local' ? local : queue, manifest);
        rates[side].push(rate);
        console.log(`round ${r + 1} ${side.padEnd(5)} ${fmt(rate, 4)} images/s`);
      }
    }
    const paired = rates.queue.map((q, i) => q / rates.local[i]!);
    const spread = (xs: number[]) => `${fmt(Math.min(...xs), 4)}–${fmt(Math.max(...xs), 4)}`;
    console.log(
      JSON.stringify({
        files: count,
        imageSize: values['image-size'],
        localImagesPerS: { median: median(rates.local), spread: spread(rates.local) },
        queueImagesPerS: { median: median(rates.queue), spread: spread(rates.queue) },
        ratioOfMedians: median(rates.queue) / median(rates.local),
        medianPairedRatio: median(paired),
        pairedRatios: paired.map((x) => Number(x.toFixed(3))),
      }),
    );
  } finally {
    await queue.close();
    await local.close();
    for (const wp of workers) wp.kill('SIGTERM');
    await Promise.all(workers.map((wp) => new Promise((r) => wp.once('exit', r))));
    await redis.destroy();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
