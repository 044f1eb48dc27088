/**
 * The same image files through graft (FeatureExtractor, cache off) and through PyTorch + torchvision
 * (bench/peers/extract_torch.py: PIL decode, resize 224×224 bilinear, ToTensor, torchvision mobilenet_v2 in
 * channels_last to the pooled 1280-d features, batch 32), run through ../shared/peers/run_pt_tuned.sh (PyTorch's
 * best configuration here). Interleaved repetitions; each side is timed over all files after a 2-batch warm-up.
 * Goal: graft ≥ 1.5× PyTorch's images/s. Skipped with a message when python3-torch/torchvision are absent.
 *
 *   node --import tsx bench/extract-vs-pytorch.ts [--files 1024] [--image-size 256x256] [--reps 3] [--threads 2]
 *     [--workers 0]
 *
 * Files as in bench/extract-files.ts (MNIST digits colourised and upscaled, half JPEG, half PNG).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { FeatureExtractor } from '../src/features/extract.js';
import { loadBackbone } from '../src/models/registry.js';
import type { ImagePreprocess } from '../src/models/spec.js';
import { makeImageFiles } from './util/images.js';
import { BENCH_PEERS, fmt, havePython, median, runJson, SHARED_PEERS, timed } from './util/stats.js';

interface TorchResult {
  images: number;
  seconds: number;
  images_per_s: number;
}

async function main(): Promise<void> {
  ort.env.logLevel = 'error';
  const { values } = parseArgs({
    options: {
      files: { type: 'string', default: '1024' },
      'image-size': { type: 'string', default: '256x256' },
      reps: { type: 'string', default: '3' },
      threads: { type: 'string', default: '2' },
      workers: { type: 'string', default: '0' },
    },
  });
  if (!havePython(['torch', 'torchvision', 'PIL'])) {
    console.log('skipped: /usr/bin/python3 with torch, torchvision and PIL is not available');
    return;
  }
  const count = Number(values.files);
  const reps = Number(values.reps);
  const threads = Number(values.threads);
  const [w, h] = values['image-size'].split('x').map(Number) as [number, number];
  const files = await makeImageFiles(count, w, h);
  const list = join(files.dir, 'files.txt');
  writeFileSync(list, files.examples.map((e) => e.source).join('\n') + '\n');

  const backbone = await loadBackbone('npm:nsfwjs/mobilenet_v2');
  const extractor = await FeatureExtractor.create(
    backbone.model,
    backbone.spec.inputName,
    backbone.spec.preprocess as ImagePreprocess,
    [backbone.spec.featureTensor],
    { batchSize: 32, cacheDir: false, session: { threads, interOpThreads: 1 } },
  );
  await extractor.extract(files.examples.slice(0, 64)); // warm-up, as the torch side does
  const runGraft = async () => {
    const { s, value } = await timed(() => extractor.extract(files.examples));
    if (value.extracted !== count) throw new Error(`graft extracted ${value.extracted} of ${count}`);
    return count / s;
  };
  const runTorch = () =>
    runJson<TorchResult>('bash', [
      join(SHARED_PEERS, 'run_pt_tuned.sh'),
      join(BENCH_PEERS, 'extract_torch.py'),
      list,
      '--threads',
      String(threads),
      '--workers',
      values.workers,
    ]).images_per_s;

  const graft: number[] = [];
  const torch: number[] = [];
  for (let r = 0; r < reps; r++) {
    if (r % 2 === 0) {
      graft.push(await runGraft());
      torch.push(runTorch());
    } else {
      torch.push(runTorch());
      graft.push(await runGraft());
    }
  }
  const paired = median(graft.map((g, i) => g / torch[i]!));
  console.log(
    `files: ${count} MNIST digits colourised, ${w}x${h} (${files.jpeg} JPEG q90, ${files.png} PNG); ` +
      `batch 32; ${threads} threads; ${reps} interleaved reps; torch DataLoader workers ${values.workers}`,
  );
  console.log(`PyTorch + torchvision (PIL, channels_last): ${median(torch).toFixed(1)} images/s`);
  console.log(`graft FeatureExtractor (cache off)        : ${median(graft).toFixed(1)} images/s`);
  console.log(
    `ratio graft/PyTorch: ${fmt(median(graft) / median(torch))} of medians, ${fmt(paired)} median of paired reps` +
      ` (goal >= 1.5)`,
  );
  await extractor.release();
}

await main();
