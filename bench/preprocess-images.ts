/**
 * Image preprocessing alone: the same files (the extraction benchmark's colourised MNIST digits, half JPEG q90,
 * half PNG) decoded, resized to MobileNetV2's 224×224 and normalised into a batch buffer, through graft's native
 * addon and through the sharp path it falls back to. Prints images/s (wall, `--concurrency` at a time on libuv's
 * pool) and process CPU milliseconds per image, interleaved rounds, medians.
 *
 *   node --import tsx bench/preprocess-images.ts [--files 512] [--image-size 256x256] [--rounds 3] [--concurrency 32]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { NSFWJS_MODELS } from '../src/models/nsfwjs.js';
import type { ImagePreprocess } from '../src/models/spec.js';
import { decodeForSpec } from '../src/preprocess/image-decode.js';
import { preprocessNative } from '../src/preprocess/image-native.js';
import { normalizationTables, writeNormalized } from '../src/preprocess/image-normalize.js';
import { nativeImageUnavailable } from '../src/preprocess/native.js';
import { makeImageFiles } from './util/images.js';
import { median } from './util/stats.js';

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '512' },
    'image-size': { type: 'string', default: '256x256' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '32' },
  },
});
const why = nativeImageUnavailable();
if (why) throw new Error(`the native addon is not available: ${why}`);
const [w, h] = values['image-size'].split('x').map(Number) as [number, number];
const files = await makeImageFiles(Number(values.files), w, h);
const bytes = files.examples.map((e) => readFileSync(e.source));
// MobileNetV2's spec as graft's registry has it: 224x224, bilinear, no crop, pixel / 255.
const spec = NSFWJS_MODELS.find((m) => m.id === 'npm:nsfwjs/mobilenet_v2')!.preprocess as ImagePreprocess;
const tables = normalizationTables(spec);
const per = 224 * 224 * 3;
const concurrency = Number(values.concurrency);
const batch = new Float32Array(per * concurrency);

type Path = (input: Uint8Array, slot: number) => Promise<void>;
const native: Path = async (input, slot) => {
  if (!(await preprocessNative(input, spec, batch, slot * per, {}, tables))) throw new Error('not native');
};
const viaSharp: Path = async (input, slot) => {
  const px = await decodeForSpec(input, spec);
  writeNormalized(px.data, px.width, px.height, px.channels, spec, batch, slot * per, tables);
};

async function measure(path: Path): Promise<{ ips: number; cpuMs: number }> {
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, slot) => {
      while (next < bytes.length) await path(bytes[next++]!, slot);
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { ips: bytes.length / seconds, cpuMs: (cpu.user + cpu.system) / 1000 / bytes.length };
}

await measure(native);
await measure(viaSharp);
const results = {
  native: [] as { ips: number; cpuMs: number }[],
  sharp: [] as { ips: number; cpuMs: number }[],
};
for (let r = 0; r < Number(values.rounds); r++) {
  results.native.push(await measure(native));
  results.sharp.push(await measure(viaSharp));
}
console.log(
  `${bytes.length} files, ${w}x${h} -> 224x224 (${files.jpeg} JPEG, ${files.png} PNG), ${concurrency} at a time`,
);
for (const [name, rs] of Object.entries(results)) {
  const ips = median(rs.map((r) => r.ips));
  const cpu = median(rs.map((r) => r.cpuMs));
  console.log(`${name.padEnd(6)}: ${ips.toFixed(0)} images/s, ${cpu.toFixed(2)} ms CPU per image`);
}
const ratio = median(results.sharp.map((r) => r.cpuMs)) / median(results.native.map((r) => r.cpuMs));
console.log(`native uses ${ratio.toFixed(1)}x less CPU per image than the sharp path`);
