/**
 * Train-step throughput, batch 32, 2 threads, SGD with momentum: graft (forward + backward in one ORT session,
 * optimizer in TS) vs PyTorch 1.13 (bench/peers/pt_finetune_steps.py through ../shared/peers/run_pt_tuned.sh).
 * (a) linear head on 1280-d features; (b) MobileNetV2 blocks 14-16 + Conv_1 + head on 32x160x7x7 activations;
 * (c) full MobileNetV2 at 224x224. Same architecture on both sides (graft: the imported Keras MobileNetV2,
 * PyTorch: torchvision's with calibrated BN statistics; identical shapes and op counts, different values).
 *
 * Fairness: each side runs in a process of its own every round (peak RSS of each from /usr/bin/time -v), the
 * order alternates from round to round, both take the same warm-up steps and timed steps. With frozen BN graft
 * folds BatchNormalization into its Conv, and PyTorch gets the same with fuse_conv_bn_eval; PyTorch runs in
 * whichever of NCHW and channels_last a probe before the rounds finds faster. Figures are medians over rounds
 * with their range; the ratio is graft / PyTorch throughput, of medians and per round.
 *
 * Usage: npx tsx bench/finetune-train-step.ts [cases=abc] [rounds=3] [bn=frozen|train]
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { mulberry32 } from '../src/data/random.js';
import { loadBackbone } from '../src/models/registry.js';
import { BackboneTrainable } from '../src/strategies/finetune/backbone-trainable.js';
import { float32 } from '../src/tensor.js';
import { SGD } from '../src/train/optimizers/index.js';
import { alternate, nodeScript, runChild, versusPyTorch } from './util/rounds.js';
import { median } from './util/stats.js';

const B = 32;
const WARMUP = 3;
const REPS = 7;
const PEER = fileURLToPath(new URL('./peers/pt_finetune_steps.py', import.meta.url));
const LAUNCH = fileURLToPath(new URL('../../shared/peers/run_pt_tuned.sh', import.meta.url));
const spec = {
  a: { unfreeze: 'none', shape: [1280] },
  b: { unfreeze: 'last:3', shape: [160, 7, 7] },
  c: { unfreeze: 'all', shape: [224, 224, 3] },
} as const;
type Case = keyof typeof spec;
type Bn = 'frozen' | 'train';

interface StepResult {
  items_per_s: number;
  step_s: number[];
  layout?: string;
}

/** One side of a round: graft's steps in this (child) process; prints the JSON line the parent reads. */
async function graftSide(c: Case, bn: Bn): Promise<void> {
  const bb = await loadBackbone('npm:nsfwjs/mobilenet_v2');
  const m = await BackboneTrainable.create({
    backbone: bb.model,
    inputName: 'input_1',
    inputShape: [224, 224, 3],
    featureTensor: 'flatten_1',
    numClasses: 10,
    unfreeze: spec[c].unfreeze,
    bnMode: bn,
    seed: 0,
    session: { threads: 2 },
  });
  const u = mulberry32(1);
  const per = spec[c].shape.reduce((a, b) => a * b, 1);
  const x = float32(
    [B, ...spec[c].shape],
    Float32Array.from({ length: B * per }, () => u()),
  );
  const labels = Int32Array.from({ length: B }, (_, i) => i % 10);
  const opt = new SGD({ lr: 0.01, momentum: 0.9 });
  const step = async () =>
    opt.step(m.params, (await m.computeGradients({ inputs: { x }, labels })).gradients);
  const inner = c === 'a' ? 50 : 1;
  for (let i = 0; i < WARMUP; i++) await step();
  const ts: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) await step();
    ts.push((performance.now() - t0) / 1000 / inner);
  }
  await m.release();
  console.log(JSON.stringify({ items_per_s: B / median(ts), step_s: ts }));
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { side: { type: 'string' } },
  });
  const [cases = 'abc', roundsArg = '3', bnArg = 'frozen'] = positionals;
  const bn: Bn = bnArg === 'train' ? 'train' : 'frozen';
  if (values.side === 'graft') return graftSide(cases as Case, bn);
  const rounds = Number(roundsArg);
  for (const c of cases.split('') as Case[]) {
    const { layout } = runChild<{ layout: string }>(LAUNCH, [PEER, c, '2', bn, 'probe']).value;
    const [node, args] = nodeScript(import.meta.url, ['--side', 'graft', c, '1', bn]);
    const rss = { graft: [] as number[], torch: [] as number[] };
    const side = (name: 'graft' | 'torch', cmd: string, argv: string[]) => () => {
      const r = runChild<StepResult>(cmd, argv);
      if (r.peakRssMb !== undefined) rss[name].push(r.peakRssMb);
      return r.value.items_per_s;
    };
    const res = await alternate(
      rounds,
      {
        graft: side('graft', node, args),
        torch: side('torch', LAUNCH, [PEER, c, '2', bn, layout, String(WARMUP), String(REPS)]),
      },
      (r, got) =>
        console.log(
          `  (${c}) round ${r + 1}: graft ${got.graft.toFixed(1)}, PyTorch ${got.torch.toFixed(1)} items/s`,
        ),
    );
    console.log(
      `(${c}) bn=${bn}, ${rounds} rounds, ${WARMUP} warm-up + ${REPS} timed steps per process, PyTorch ${layout}: ` +
        versusPyTorch(res, rss, 'items/s'),
    );
  }
}

await main();
