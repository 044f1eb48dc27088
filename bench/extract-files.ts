/**
 * Feature extraction from image files through graft's FeatureExtractor (cache disabled: decode, resize,
 * normalise, batch, ONNX Runtime on the pooled MobileNetV2 prefix) vs a raw onnxruntime-node InferenceSession
 * on the same prefix fed already-decoded, preprocessed batches. Same batch (32), same threads, interleaved
 * repetitions in one run. Goal: graft ≥ 0.9× raw throughput.
 *
 *   node --import tsx bench/extract-files.ts [--files 2048] [--image-size 256x256] [--reps 4] [--threads 2]
 *     [--batch 32] [--decode-concurrency 32]
 *
 * Files: MNIST digits colourised and upscaled to --image-size, half JPEG (q90), half PNG (bench/util/images.ts),
 * written once to $TMPDIR/graft-bench-images-<files>-<size>/ and reused. Backbone: npm:nsfwjs/mobilenet_v2
 * (224×224 NHWC, pixel/255), cut at its pooled 1280-d features. Each rep extracts a fresh slice of the files
 * (files / reps of them), so no file is decoded twice and the OS page cache is the only cache.
 */
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { FeatureExtractor } from '../src/features/extract.js';
import { loadBackbone } from '../src/models/registry.js';
import type { ImagePreprocess } from '../src/models/spec.js';
import { encodeModel } from '../src/onnx/io.js';
import { batchShape, preprocessBatch } from '../src/preprocess/image.js';
import { makeImageFiles } from './util/images.js';
import { fmt, median, timed } from './util/stats.js';

async function main(): Promise<void> {
  ort.env.logLevel = 'error';
  const { values } = parseArgs({
    options: {
      files: { type: 'string', default: '2048' },
      'image-size': { type: 'string', default: '256x256' },
      reps: { type: 'string', default: '4' },
      threads: { type: 'string', default: '2' },
      batch: { type: 'string', default: '32' },
      'decode-concurrency': { type: 'string', default: '32' },
    },
  });
  const count = Number(values.files);
  const reps = Number(values.reps);
  const threads = Number(values.threads);
  const batch = Number(values.batch);
  const [w, h] = values['image-size'].split('x').map(Number) as [number, number];
  const files = await makeImageFiles(count, w, h);
  const backbone = await loadBackbone('npm:nsfwjs/mobilenet_v2');
  const spec = backbone.spec.preprocess as ImagePreprocess;
  const session = { threads, interOpThreads: 1 };
  const extractor = await FeatureExtractor.create(
    backbone.model,
    backbone.spec.inputName,
    spec,
    [backbone.spec.featureTensor],
    { batchSize: batch, cacheDir: false, session, decodeConcurrency: Number(values['decode-concurrency']) },
  );
  const raw = await ort.InferenceSession.create(encodeModel(extractor.prefix.model), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
  });
  const input = backbone.spec.inputName;
  const output = extractor.prefix.outputs[0]!;
  // Raw side: 8 distinct batches, decoded and preprocessed up front, cycled through.
  const pre: Float32Array[] = [];
  for (let b = 0; b < 8; b++) {
    const paths = files.examples.slice(b * batch, (b + 1) * batch).map((e) => e.source);
    pre.push((await preprocessBatch(paths, spec)).data);
  }
  const perRep = Math.floor(count / reps / batch) * batch;
  const runRaw = async (): Promise<number> => {
    for (let i = 0; i < perRep / batch; i++) {
      const t = new ort.Tensor('float32', pre[i % pre.length]!, batchShape(batch, spec));
      await raw.run({ [input]: t }, [output]);
    }
    return perRep;
  };
  const runGraft = async (r: number): Promise<number> => {
    const set = await extractor.extract(files.examples.slice(r * perRep, (r + 1) * perRep));
    if (set.extracted !== perRep) throw new Error(`extracted ${set.extracted} of ${perRep}`);
    return perRep;
  };
  // Warm-up: two batches each (ORT's first runs, sharp's first decodes).
  await extractor.extract(files.examples.slice(count - 2 * batch));
  for (let i = 0; i < 2; i++)
    await raw.run({ [input]: new ort.Tensor('float32', pre[i]!, batchShape(batch, spec)) }, [output]);

  const tRaw: number[] = [];
  const tGraft: number[] = [];
  for (let r = 0; r < reps; r++) {
    const g = async () => tGraft.push((await timed(() => runGraft(r))).s);
    const x = async () => tRaw.push((await timed(runRaw)).s);
    if (r % 2 === 0) {
      await g();
      await x();
    } else {
      await x();
      await g();
    }
  }
  const ipsRaw = perRep / median(tRaw);
  const ipsGraft = perRep / median(tGraft);
  const paired = median(tRaw.map((t, i) => t / tGraft[i]!));
  console.log(
    `files: ${count} MNIST digits colourised, ${w}x${h} (${files.jpeg} JPEG q90, ${files.png} PNG), ` +
      `${(files.bytes / 1e6).toFixed(1)} MB in ${files.dir}`,
  );
  console.log(
    `backbone npm:nsfwjs/mobilenet_v2 -> ${backbone.spec.featureTensor} (1280-d); batch ${batch}; ` +
      `${threads} ORT threads; ${reps} interleaved reps of ${perRep} images; decode concurrency ` +
      `${values['decode-concurrency']}`,
  );
  console.log(`raw ort.InferenceSession (preprocessed tensors): ${ipsRaw.toFixed(1)} images/s`);
  console.log(`graft FeatureExtractor (files, cache off)      : ${ipsGraft.toFixed(1)} images/s`);
  console.log(
    `ratio graft/raw: ${fmt(ipsGraft / ipsRaw)} of medians, ${fmt(paired)} median of paired reps (goal >= 0.9)`,
  );
  await extractor.release();
  await raw.release();
}

await main();
