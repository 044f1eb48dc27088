/**
 * Train-step throughput, batch 32, 2 threads: graft (forward + backward in one ORT session, optimizer in TS) vs
 * PyTorch 1.13 through ../shared/peers/run_pt_tuned.sh, interleaved rounds, medians and ratios from this run.
 * (a) linear head on 1280-d features; (b) MobileNetV2 blocks 14-16 + Conv_1 + head on 32x160x7x7 activations;
 * (c) full MobileNetV2 at 224x224 (peak RSS of each process reported). Same architecture both sides (graft:
 * the imported Keras MobileNetV2, PyTorch: torchvision's; identical shapes and op counts, different values).
 * Usage: npx tsx bench/finetune-train-step.ts [cases=abc] [rounds=3] [bn=frozen|train]
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../src/data/random.js';
import { loadBackbone } from '../src/models/registry.js';
import { BackboneTrainable } from '../src/strategies/finetune/backbone-trainable.js';
import { float32 } from '../src/tensor.js';
import { SGD } from '../src/train/optimizers/index.js';

const [cases = 'abc', roundsArg = '3', bnArg = 'frozen'] = process.argv.slice(2);
const rounds = Number(roundsArg);
const bn = bnArg === 'train' ? 'train' : 'frozen';
const B = 32;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const PEER = fileURLToPath(new URL('./peers/pt_finetune_steps.py', import.meta.url));
const LAUNCH = fileURLToPath(new URL('../../shared/peers/run_pt_tuned.sh', import.meta.url));

const bb = await loadBackbone('npm:nsfwjs/mobilenet_v2');
const spec = {
  a: { unfreeze: 'none', shape: [1280] },
  b: { unfreeze: 'last:3', shape: [160, 7, 7] },
  c: { unfreeze: 'all', shape: [224, 224, 3] },
} as const;

async function graftCase(c: keyof typeof spec): Promise<number> {
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
  const [reps, inner] = c === 'a' ? [7, 50] : [c === 'c' ? 5 : 7, 1];
  for (let i = 0; i < 3; i++) await step();
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) await step();
    ts.push((performance.now() - t0) / 1000 / inner);
  }
  await m.release();
  return B / median(ts);
}

function torchCase(c: string): { items: number; rss: number } {
  const out = execFileSync(LAUNCH, [PEER, c, '2', bn], { encoding: 'utf8' });
  const r = JSON.parse(out.trim().split('\n').pop()!) as { items_per_s: number; rss_peak_mb: number };
  return { items: r.items_per_s, rss: r.rss_peak_mb };
}

for (const c of cases.split('') as (keyof typeof spec)[]) {
  const g: number[] = [];
  const t: number[] = [];
  let torchRss = 0;
  for (let r = 0; r < rounds; r++) {
    g.push(await graftCase(c));
    const tc = torchCase(c);
    t.push(tc.items);
    torchRss = Math.max(torchRss, tc.rss);
  }
  const rss = process.resourceUsage().maxRSS / 1024;
  console.log(
    `(${c}) bn=${bn} graft ${median(g).toFixed(1)} items/s, PyTorch ${median(t).toFixed(1)} items/s, ratio ${(median(g) / median(t)).toFixed(2)}x` +
      (c === 'c'
        ? `; peak RSS graft ${rss.toFixed(0)} MB (whole bench process), PyTorch ${torchRss.toFixed(0)} MB`
        : ''),
  );
}
