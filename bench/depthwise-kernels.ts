/**
 * graft's native depthwise kernels (native/conv) on one geometry: forward, dX and dW into reused arrays, median ms
 * over the rounds with the range. Small planes (output rows narrower than 16, ≥ 16 channels) take the
 * channels-last path, larger ones the row-wise phase-split path.
 *
 *   node --import tsx bench/depthwise-kernels.ts [--shape N,C,H,W] [--stride 1] [--threads 2] [--rounds 7]
 *   e.g. --shape 32,960,7,7 (MobileNetV2 blocks 14–16 at 224) or 32,144,56,56
 */
import { parseArgs } from 'node:util';
import { convAddon } from '../src/runtime/native-ops.js';
import { showSpread } from './util/rounds.js';

const { values } = parseArgs({
  options: {
    shape: { type: 'string', default: '32,960,7,7' },
    stride: { type: 'string', default: '1' },
    threads: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '7' },
  },
});
const addon = convAddon();
if (!addon) throw new Error('graft_conv.node is not built (npm run install)');
const [n, c, h, w] = values.shape.split(',').map(Number) as [number, number, number, number];
const s = Number(values.stride);
const threads = Number(values.threads);
const geometry = Int32Array.of(n, c, h, w, 3, 3, s, s, 1, 1, 1, 1);
const ho = Math.floor((h + 2 - 3) / s) + 1;
const wo = Math.floor((w + 2 - 3) / s) + 1;
const x = Float32Array.from({ length: n * c * h * w }, (_, i) => Math.sin(i));
const k = Float32Array.from({ length: c * 9 }, (_, i) => Math.cos(i));
const y = new Float32Array(n * c * ho * wo);
const dx = new Float32Array(x.length);
const dw = new Float32Array(k.length);
const ms = { forward: [] as number[], dX: [] as number[], dW: [] as number[] };
const time = (into: number[], f: () => void) => {
  const t = performance.now();
  f();
  into.push(performance.now() - t);
};
for (let r = 0; r < Number(values.rounds) + 1; r++) {
  const keep = r > 0; // the first round warms up
  const t = { forward: [] as number[], dX: [] as number[], dW: [] as number[] };
  time(t.forward, () => addon.depthwiseForward(x, k, null, y, geometry, threads));
  time(t.dX, () => addon.depthwiseGradInput(y, k, dx, geometry, threads));
  time(t.dW, () => addon.depthwiseGradWeight(x, y, dw, geometry, threads));
  if (keep) for (const key of Object.keys(ms) as (keyof typeof ms)[]) ms[key].push(t[key][0]!);
}
console.log(
  `depthwise 3×3 stride ${s} pad 1 on [${n}, ${c}, ${h}, ${w}], ${threads} threads, ${addon.isa()}` +
    `, ${wo < 16 && c >= 16 ? 'channels-last' : 'row-wise'} path:`,
);
for (const [key, xs] of Object.entries(ms)) console.log(`  ${key.padEnd(8)} ${showSpread(xs)} ms`);
