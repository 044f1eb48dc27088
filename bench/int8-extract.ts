/**
 * int8 vs fp32 feature extraction through graft's FeatureExtractor (no cache: every image is decoded and run),
 * on real MNIST digits, rounds interleaved in one process with alternating order, same batch and threads.
 * The int8 extractor is calibrated on training digits of the demo's split and measured on its test digits.
 *
 *   node --import tsx bench/int8-extract.ts [--model npm:nsfwjs/mobilenet_v2] [--images 256] [--calibration 256]
 *     [--rounds 5] [--threads 2] [--batch 32] [--method minmax] [--tensor <name>]
 *
 * Prints images/s (median and range) per side, the ratio of medians and the median (and range) of paired
 * ratios, the prefix model file sizes, and the relative L2 error of the int8 features. --profile adds ONNX Runtime's
 * kernel profile of both prefixes over the first batch (time per op type after ORT's fusions, e.g. QLinearConv
 * against Conv, and the int8 model's slowest nodes); --rounds 0 with it profiles only.
 */
import { parseArgs } from 'node:util';
import { loadDataset } from '../src/data/load.js';
import { stratifiedSplit } from '../src/data/split.js';
import type { Example, ImageSource } from '../src/data/types.js';
import { FeatureExtractor, type FeatureSet } from '../src/features/extract.js';
import { loadBackbone } from '../src/models/registry.js';
import { encodeModel } from '../src/onnx/io.js';
import type { CalibrationMethod } from '../src/quantize/calibrate.js';
import * as ort from 'onnxruntime-node';
import { preprocessBatch } from '../src/preprocess/image.js';
import { profileKernels } from './util/ort-profile.js';
import { fmt, median } from './util/stats.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'npm:nsfwjs/mobilenet_v2' },
    images: { type: 'string', default: '256' },
    calibration: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '5' },
    threads: { type: 'string', default: '2' },
    batch: { type: 'string', default: '32' },
    method: { type: 'string', default: 'minmax' },
    tensor: { type: 'string' },
    profile: { type: 'boolean', default: false },
  },
});

const backbone = await loadBackbone(args.model!);
if (backbone.spec.preprocess.kind !== 'image') throw new Error(`${args.model} is not an image model`);
const tensor = args.tensor ?? backbone.spec.featureTensor;
const split = stratifiedSplit(await loadDataset('mnist'), { validation: 0, test: 0.1, seed: 0 });
const images = split.test.examples.slice(0, Number(args.images)) as Example<ImageSource>[];
const calibration = split.train.examples.slice(0, Number(args.calibration)) as Example<ImageSource>[];
const common = {
  batchSize: Number(args.batch),
  cacheDir: false as const,
  session: { threads: Number(args.threads) },
};
const t0 = performance.now();
const fp32 = await FeatureExtractor.create(
  backbone.model,
  backbone.spec.inputName,
  backbone.spec.preprocess,
  [tensor],
  common,
);
const t1 = performance.now();
const int8 = await FeatureExtractor.create(
  backbone.model,
  backbone.spec.inputName,
  backbone.spec.preprocess,
  [tensor],
  { ...common, int8: { calibration, quantize: { method: args.method as CalibrationMethod } } },
);
const quantizeSeconds = (performance.now() - t1) / 1000;
console.log(
  `${args.model} → ${tensor}: fp32 prefix built in ${((t1 - t0) / 1000).toFixed(1)} s, int8 (prepare + ${args.method} calibration on ${calibration.length} digits) in ${quantizeSeconds.toFixed(1)} s`,
);

if (args.profile) {
  const batch = await preprocessBatch(
    images.slice(0, Number(args.batch)).map((e) => e.source),
    backbone.spec.preprocess,
  );
  const feeds = [
    { [backbone.spec.inputName]: new ort.Tensor('float32', batch.data as Float32Array, [...batch.shape]) },
  ];
  const threads = Number(args.threads);
  for (const [name, x] of [
    ['fp32', fp32],
    ['int8', int8],
  ] as const) {
    await profileKernels(x.model, feeds, threads); // warm-up
    const p = await profileKernels(x.model, feeds, threads);
    console.log(`${name} kernel ms per batch of ${args.batch}, by op: ${JSON.stringify(p.byOp)}`);
    if (name === 'int8')
      console.log(
        `int8 slowest nodes: ${p.byNode
          .slice(0, 25)
          .map((n) => `${n.node} (${n.op}) ${n.ms}`)
          .join('; ')}`,
      );
  }
}
if (Number(args.rounds) === 0) {
  await fp32.release();
  await int8.release();
  process.exit(0);
}

const run = async (x: FeatureExtractor): Promise<{ rate: number; set: FeatureSet }> => {
  const t = performance.now();
  const set = await x.extract(images);
  return { rate: images.length / ((performance.now() - t) / 1000), set };
};
// Warm-up: two runs each (arena growth, then page-faulting its memory pattern in).
for (let i = 0; i < 2; i++) {
  await run(fp32);
  await run(int8);
}
const rates: Record<'fp32' | 'int8', number[]> = { fp32: [], int8: [] };
let last: Record<'fp32' | 'int8', FeatureSet | undefined> = { fp32: undefined, int8: undefined };
for (let r = 0; r < Number(args.rounds); r++) {
  const order = r % 2 === 0 ? (['fp32', 'int8'] as const) : (['int8', 'fp32'] as const);
  for (const side of order) {
    const { rate, set } = await run(side === 'fp32' ? fp32 : int8);
    rates[side].push(rate);
    last = { ...last, [side]: set };
  }
  console.log(`round ${r + 1}: fp32 ${fmt(rates.fp32[r]!)} images/s, int8 ${fmt(rates.int8[r]!)} images/s`);
}
const paired = rates.int8.map((v, i) => v / rates.fp32[i]!);
const range = (xs: number[]) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
const a = last.fp32!.matrices[0]!;
const b = last.int8!.matrices[0]!;
let diff = 0;
let norm = 0;
for (let i = 0; i < a.length; i++) {
  diff += (a[i]! - b[i]!) ** 2;
  norm += a[i]! ** 2;
}
const fpBytes = encodeModel(fp32.model).byteLength;
const qBytes = encodeModel(int8.model).byteLength;
console.log(
  JSON.stringify(
    {
      model: args.model,
      tensor,
      images: images.length,
      batch: Number(args.batch),
      threads: Number(args.threads),
      method: args.method,
      fp32: { median: median(rates.fp32), range: range(rates.fp32) },
      int8: { median: median(rates.int8), range: range(rates.int8) },
      ratioOfMedians: median(rates.int8) / median(rates.fp32),
      medianPairedRatio: median(paired),
      pairedRange: range(paired),
      bytes: { fp32: fpBytes, int8: qBytes, ratio: fpBytes / qBytes },
      featureRelativeError: Math.sqrt(diff / norm),
    },
    null,
    2,
  ),
);
await fp32.release();
await int8.release();
