/**
 * The same image files through graft (FeatureExtractor, cache off) and through PyTorch + torchvision
 * (bench/peers/extract_torch.py: PIL decode, resize 224×224 bilinear, ToTensor, mobilenet_v2 in eval +
 * inference_mode to the pooled 1280-d features, batch 32, via ../shared/peers/run_pt_tuned.sh),
 * on the same weights: torchvision's MobileNetV2 as ../shared/peers/export_onnx.py exports it (seeded, BN
 * calibrated), loaded by graft with `file:` and cut at the pooled features (the input of the classifier's Gemm);
 * the preprocessing is the same on both sides (pixel / 255, no crop).
 *
 * With --int8, a third side: graft's FeatureExtractor through an int8 copy of the same prefix (src/quantize:
 * static QDQ, per-channel weights, minmax ranges, bias correction), calibrated once before the rounds on the
 * first --calibration files and kept in a cache directory that each round's process reads it from (the
 * calibration is not timed; the features are not cached).
 *
 * Fairness: each side runs in a process of its own every round (one 2-batch warm-up pass, then all files
 * timed), the order rotates from round to round, and PyTorch runs in the best of channels_last and NCHW with
 * whichever of 0, 1 and 2 DataLoader worker processes a probe before the rounds finds fastest. Figures are
 * medians over rounds with their range. Goals: graft ≥ 1.5× PyTorch's images/s; int8 ≥ 2.5×. Skipped with a
 * message when python3-torch/torchvision are absent.
 *
 *   node --import tsx bench/extract-vs-pytorch.ts [--files 1024] [--image-size 256x256] [--rounds 4] [--threads 2]
 *     [--int8] [--calibration 128]
 *
 * Files as in bench/extract-files.ts (MNIST digits colourised and upscaled, half JPEG, half PNG).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { FeatureExtractor, type FeatureExtractorOptions } from '../src/features/extract.js';
import { loadBackbone } from '../src/models/registry.js';
import type { ImagePreprocess } from '../src/models/spec.js';
import { makeImageFiles } from './util/images.js';
import { alternate, nodeScript, pairedRatios, runChild, showSpread } from './util/rounds.js';
import { BENCH_PEERS, havePython, median, peersOut, PYTHON, SHARED_PEERS, timed } from './util/stats.js';

interface Rate {
  images_per_s: number;
}

/** graft's side of one round, in this (child) process. */
async function graftExtractor(
  model: string,
  threads: number,
  int8: FeatureExtractorOptions['int8'],
  cacheDir: string | false = false,
): Promise<FeatureExtractor> {
  ort.env.logLevel = 'error';
  const backbone = await loadBackbone(`file:${model}`);
  // export_onnx.py fixes the batch at 32; graft probes the graph with one image and calibrates in batches of 8.
  const g = backbone.model.graph;
  for (const v of [...g.inputs, ...g.outputs]) if (v.shape) v.shape[0] = 'batch';
  g.valueInfo.clear();
  const classifier = backbone.model.graph.nodes.find((n) => n.opType === 'Gemm');
  if (!classifier) throw new Error(`${model} has no classifier Gemm to cut before`);
  return FeatureExtractor.create(
    backbone.model,
    backbone.spec.inputName,
    backbone.spec.preprocess as ImagePreprocess,
    [classifier.inputs[0]!],
    { batchSize: 32, cacheDir, session: { threads, interOpThreads: 1 }, ...(int8 ? { int8 } : {}) },
  );
}

/** graft's side of one round, in this (child) process: fp32, or the int8 prefix made before the rounds. */
async function graftSide(
  model: string,
  list: string[],
  threads: number,
  int8: FeatureExtractorOptions['int8'],
): Promise<void> {
  const examples = list.map((source, i) => ({ id: source, label: i % 10, source }));
  const extractor = await graftExtractor(model, threads, int8);
  await extractor.extract(examples.slice(0, 64)); // warm-up, as the PyTorch side does
  const { s, value } = await timed(() => extractor.extract(examples));
  if (value.extracted !== examples.length)
    throw new Error(`graft extracted ${value.extracted} of ${examples.length}`);
  await extractor.release();
  console.log(JSON.stringify({ images_per_s: examples.length / s } satisfies Rate));
}

/** Where the int8 prefix made before the rounds is kept (see src/features/int8-prefix.ts). */
interface Int8Ref {
  id: string;
  sha256: string;
  cacheDir: string;
}

/**
 * Calibrates the int8 prefix once, on the first `count` files, into a fresh cache directory; each int8 round's
 * process then reads that file. Also prints how far its features are from the float ones on those files.
 */
async function makeInt8(
  model: string,
  examples: readonly { id: string; label: number; source: string }[],
  count: number,
  threads: number,
): Promise<Int8Ref> {
  const cacheDir = mkdtempSync(join(tmpdir(), 'graft-bench-int8-'));
  const calibration = examples.slice(0, count);
  const t0 = performance.now();
  const q = await graftExtractor(model, threads, { calibration }, cacheDir);
  const ref = { id: q.int8!.id!, sha256: q.int8!.sha256, cacheDir };
  const fp = await graftExtractor(model, threads, undefined);
  const a = (await fp.extract(calibration)).matrices[0]!;
  const b = (await q.extract(calibration)).matrices[0]!;
  await fp.release();
  await q.release();
  let d = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i]! - b[i]!) ** 2;
    n += a[i]! ** 2;
  }
  console.log(
    `int8 prefix calibrated on ${count} files in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
      `features on them ${(100 * Math.sqrt(d / n)).toFixed(1)}% relative L2 from fp32`,
  );
  return ref;
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
      int8: { type: 'boolean', default: false },
      calibration: { type: 'string', default: '128' },
      'int8-model': { type: 'string' },
    },
  });
  const threads = Number(values.threads);
  if (values.side === 'graft') {
    const list = readFileSync(values.list!, 'utf8').split('\n').filter(Boolean);
    const cached = values['int8-model'] ? (JSON.parse(values['int8-model']) as Int8Ref) : undefined;
    return graftSide(values.model!, list, threads, cached && { cached });
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
  const torchRun = (layout: string, workers: number) => () =>
    runChild<Rate>(launch, [
      join(BENCH_PEERS, 'extract_torch.py'),
      list,
      ...['--threads', String(threads), '--workers', String(workers), '--layout', layout],
    ]).value.images_per_s;
  const configs = ['channels_last', 'nchw'].flatMap((layout) =>
    [0, 1, 2].map((workers) => ({ layout, workers })),
  );
  const probe = configs.map((c) => torchRun(c.layout, c.workers)());
  const best = configs[probe.indexOf(Math.max(...probe))]!;
  console.log(
    `PyTorch probe (layout, DataLoader workers → images/s): ` +
      configs.map((c, i) => `${c.layout} ${c.workers} → ${probe[i]!.toFixed(1)}`).join('; ') +
      `; the rounds use ${best.layout} with ${best.workers} workers (load average ${loadavg()[0]!.toFixed(1)})`,
  );
  const int8 = values.int8
    ? await makeInt8(model, files.examples, Number(values.calibration), threads)
    : undefined;
  const side = (ref?: Int8Ref) =>
    nodeScript(import.meta.url, [
      ...['--side', 'graft', '--model', model, '--list', list, '--threads', String(threads)],
      ...(ref ? ['--int8-model', JSON.stringify(ref)] : []),
    ]);
  const [node, args] = side();
  const sides: Record<string, () => number> = {
    graft: () => runChild<Rate>(node, args).value.images_per_s,
    torch: torchRun(best.layout, best.workers),
  };
  if (int8) {
    const [node8, args8] = side(int8);
    sides['int8'] = () => runChild<Rate>(node8, args8).value.images_per_s;
  }
  const res = await alternate(Number(values.rounds), sides, (r, got) =>
    console.log(
      `round ${r + 1}: ` +
        Object.entries(got)
          .map(([k, v]) => `${k} ${v.toFixed(1)}`)
          .join(', ') +
        ` images/s (load average ${loadavg()[0]!.toFixed(1)})`,
    ),
  );
  console.log(
    `files: ${count} MNIST digits colourised, ${w}x${h} (${files.jpeg} JPEG q90, ${files.png} PNG); batch 32; ` +
      `${threads} threads; ${values.rounds} rounds, each side a fresh process; same weights (${model})`,
  );
  const torch = res['torch']!;
  console.log(
    `PyTorch + torchvision (PIL, ${best.layout}, workers ${best.workers}): ${showSpread(torch)} images/s`,
  );
  const ratio = (name: string, label: string, goal: string) => {
    const xs = res[name]!;
    console.log(`${label}: ${showSpread(xs)} images/s`);
    console.log(
      `  ratio to PyTorch: ${(median(xs) / median(torch)).toFixed(2)} of medians, per round ` +
        `${showSpread(pairedRatios(xs, torch))} (goal >= ${goal})`,
    );
  };
  ratio('graft', 'graft FeatureExtractor fp32 (cache off)', '1.5');
  if (res['int8']) {
    ratio('int8', 'graft FeatureExtractor int8 (cache off)', '2.5');
    console.log(
      `  int8 / graft fp32: ${(median(res['int8']) / median(res['graft']!)).toFixed(2)} of medians, per round ` +
        `${showSpread(pairedRatios(res['int8'], res['graft']!))}`,
    );
  }
}

await main();
