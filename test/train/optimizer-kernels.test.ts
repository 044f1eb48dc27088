import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import {
  ADAM_SCALARS,
  adamScalars,
  nativeKernels,
  typescriptKernels,
} from '../../src/train/optimizers/kernels.js';
import { kernelsDigest, LENGTHS, tensor } from './kernels-digest.js';

const native = nativeKernels(3);
const noAddon = { skip: native ? false : 'the optimizer addon is not built' };

test('TypeScript sums of squares equal a plain float64 sum to rounding', () => {
  for (const n of LENGTHS) {
    const x = tensor(n, n);
    let plain = 0;
    for (const v of x) plain += v * v;
    const [s] = typescriptKernels.sumSquares([x]);
    assert.ok(Math.abs(s! - plain) <= 1e-12 * plain, `n=${n}: ${s} vs ${plain}`);
  }
});

test('TypeScript Adam step equals the textbook update computed in float64, to float32 rounding', () => {
  const n = 1000;
  const p = tensor(n, 1).map((x) => x + 0.5);
  const g = tensor(n, 2);
  const ref = Float64Array.from(p);
  const [m, v] = [new Float32Array(n), new Float32Array(n)];
  const [rm, rv] = [new Float64Array(n), new Float64Array(n)];
  const c = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, decoupled: true };
  for (let t = 1; t <= 3; t++) {
    const s = new Float32Array(ADAM_SCALARS);
    adamScalars({ ...c, t }, s, 0);
    typescriptKernels.adam([p], [g], [m], [v], s);
    for (let i = 0; i < n; i++) {
      rm[i] = 0.9 * rm[i]! + 0.1 * g[i]!;
      rv[i] = 0.999 * rv[i]! + 0.001 * g[i]! * g[i]!;
      const update = rm[i]! / (1 - 0.9 ** t) / (Math.sqrt(rv[i]! / (1 - 0.999 ** t)) + 1e-8);
      ref[i] = ref[i]! * (1 - 0.01 * 0.1) - 0.01 * update;
    }
  }
  for (let i = 0; i < n; i++)
    assert.ok(Math.abs(p[i]! - ref[i]!) <= 1e-6 * Math.abs(ref[i]!) + 1e-12, `p[${i}]`);
});

test('the addon and the TypeScript kernels give bit-identical results', noAddon, () => {
  assert.equal(kernelsDigest(native!), kernelsDigest(typescriptKernels));
});

test('the addon gives the same bits on 1 and 3 threads', noAddon, () => {
  assert.equal(kernelsDigest(nativeKernels(1)!), kernelsDigest(native!));
});

test("each of the addon's instruction-set paths gives the TypeScript kernels' bits", noAddon, () => {
  const expected = kernelsDigest(typescriptKernels);
  const script = fileURLToPath(new URL('./kernels-digest.ts', import.meta.url));
  for (const isa of ['scalar', 'avx2', 'default']) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', script, '--print', '2'], {
      encoding: 'utf8',
      env: { ...process.env, GRAFT_OPTIM_ISA: isa },
    });
    const { kernels, digest } = JSON.parse(out) as { kernels: string; digest: string };
    assert.equal(digest, expected, `${isa} (${kernels})`);
  }
});
