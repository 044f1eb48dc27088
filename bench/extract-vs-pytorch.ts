/**
 * The same image files through graft (FeatureExtractor, cache off) and through PyTorch + torchvision
 * (bench/peers/extract_torch.py: PIL decode, resize 224×224 bilinear, ToTensor, mobilenet_v2 in eval +
 * inference_mode + channels_last to the pooled 1280-d features, batch 32, via ../shared/peers/run_pt_tuned.sh),
 * on the same weights: torchvision's MobileNetV2 as ../shared/peers/export_onnx.py exports it (seeded, BN
 * calibrated), loaded by graft with `file:` and cut at the pooled features (the input of the classifier's Gemm);
 * the preprocessing is the same on both sides (pixel / 255, no crop).
 *
 * Fairness: each side runs in a process of its own every round (one 2-batch warm-up pass, then all files
 * timed), the order alternates from round to round, and PyTorch's DataLoader runs with whichever of 0, 1 and 2
 * worker processes a probe before the rounds finds fastest. Figures are medians over rounds with their range.
 * Goal: graft ≥ 1.5× PyTorch's images/s. Skipped with a message when python3-torch/torchvision are absent.
 *
 *   node --import tsx bench/extract-vs-pytorch.ts [--files 1024] [--image-size 256x256] [--rounds 4] [--threads 2]
 *
 * Files as in bench/extract-files.ts (MNIST digits colourised and upscaled, half JPEG, half PNG).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { FeatureExtractor } from '../src/features/extract.js';
import { loadBackbone } from '../src/models/registry.js';
import type { ImagePreprocess } from '../src/models/spec.js';
import { makeImageFiles } from './util/images.js';
import { alternate, nodeScript, pairedRatios, runChild, showSpread } from './util/rounds.js';
import { BENCH_PEERS, havePython, median, peersOut, PYTHON, SHARED_PEERS, timed } from './util/stats.js';

interface Rate {
  images_per_s: number;
}

/** graft's side of one round, in this (child) process. */
async function graftSide(model: string, list: string[], threads: number): Promise<void> {
  ort.env.logLevel = 'error';
  const backbone = await loadBackbone(`file:${model}`);
  const classifier = backbone.model.graph.nodes.find((n) => n.opType === 'Gemm');
  if (!classifier) throw new Error(`${model} has no classifier Gemm to cut before`);
  const examples = list.map((source, i) => ({ id: source, label: i % 10, source }));
  const extractor = await FeatureExtractor.create(
    backbone.model,
    backbone.spec.inputName,
    backbone.spec.preprocess as ImagePreprocess,
    [classifier.inputs[0]!],
    { batchSize: 32, cacheDir: false, session: { threads, interOpThreads: 1 } },
  );
  await extractor.extract(examples.slice(0, 64)); // warm-up, as the PyTorch side does
  const { s, value } = await timed(() => extractor.extract(examples));
  if (value.extracted !== examples.length)
    throw new Error(`graft extracted ${value.extracted} of ${examples.length}`);
  await extractor.release();
  console.log(JSON.stringify({ images_per_s: examples.length / s } satisfies Rate));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      files: { type: 'string', default: '1024' },
      'image-size': { type: 'string', default: '256x256' },
      rounds: { type: 'string', default: '4' },
      threads: { type: 'string', default: '2' },
      side: { type: 'string' },
      model: { type: 'string' },
      list: { type: 'string' },
    },
  });
  const threads = Number(values.threads);
  if (values.side === 'graft') {
    const list = readFileSync(values.list!, 'utf8').split('\n').filter(Boolean);
    return graftSide(values.model!, list, threads);
  }
  if (!havePython(['torch', 'torchvision', 'PIL', 'onnx'])) {
    console.log('skipped: /usr/bin/python3 with torch, torchvision, PIL and onnx is not available');
    return;
  }
  const count = Number(values.files);
  if (count % 32 !== 0) throw new Error('--files must be a multiple of the batch (32)');
  const [w, h] = values['image-size'].split('x').map(Number) as [number, number];
  const files = await makeImageFiles(count, w, h);
  const list = join(files.dir, 'files.txt');
  writeFileSync(list, files.examples.map((e) => e.source).join('\n') + '\n');
  const model = join(peersOut(), 'mobilenet_v2.onnx');
  if (!existsSync(model)) {
    console.log(`exporting torchvision's models with ${SHARED_PEERS}export_onnx.py (once) ...`);
    const r = spawnSync(PYTHON, [join(SHARED_PEERS, 'export_onnx.py')], {
      cwd: SHARED_PEERS,
      stdio: 'inherit',
    });
    if (r.status !== 0) throw new Error('export_onnx.py failed');
  }

  const launch = join(SHARED_PEERS, 'run_pt_tuned.sh');
  const torchRun = (workers: number) => () =>
    runChild<Rate>(launch, [
      join(BENCH_PEERS, 'extract_torch.py'),
      list,
      ...['--threads', String(threads), '--workers', String(workers)],
    ]).value.images_per_s;
  const probe = [0, 1, 2].map((k) => torchRun(k)());
  const workers = probe.indexOf(Math.max(...probe));
  console.log(
    `PyTorch DataLoader probe: workers 0/1/2 → ${probe.map((x) => x.toFixed(1)).join(' / ')} images/s; ` +
      `the rounds use ${workers}`,
  );
  const [node, args] = nodeScript(import.meta.url, [
    ...['--side', 'graft', '--model', model, '--list', list, '--threads', String(threads)],
  ]);
  const res = await alternate(
    Number(values.rounds),
    {
      graft: () => runChild<Rate>(node, args).value.images_per_s,
      torch: torchRun(workers),
    },
    (r, got) =>
      console.log(`round ${r + 1}: graft ${got.graft.toFixed(1)}, PyTorch ${got.torch.toFixed(1)} images/s`),
  );
  console.log(
    `files: ${count} MNIST digits colourised, ${w}x${h} (${files.jpeg} JPEG q90, ${files.png} PNG); batch 32; ` +
      `${threads} threads; ${values.rounds} rounds, each side a fresh process; same weights (${model})`,
  );
  console.log(
    `PyTorch + torchvision (PIL, channels_last, workers ${workers}): ${showSpread(res.torch)} images/s`,
  );
  console.log(`graft FeatureExtractor (cache off)                 : ${showSpread(res.graft)} images/s`);
  console.log(
    `ratio graft/PyTorch: ${(median(res.graft) / median(res.torch)).toFixed(2)} of medians, per round ` +
      `${showSpread(pairedRatios(res.graft, res.torch))} (goal >= 1.5)`,
  );
}

await main();
