/** Small inputs for the scale-out tests: a tiny conv backbone as an ONNX file, and MNIST digits as PNG files. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadMnist } from '../../src/data/builtin-mnist.js';
import { attr, GraphBuilder } from '../../src/onnx/builder.js';
import { createModel } from '../../src/onnx/ir.js';
import { saveModel } from '../../src/onnx/io.js';
import { float32 } from '../../src/tensor.js';

function weights(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) / 2 ** 32 - 0.5) * 2 * scale;
  });
}

/**
 * A 16×16 NCHW backbone, Conv 3→8 + Relu, Conv 8→16 stride 2 + Relu, output 'features' [N,16,8,8]; graft
 * derives its spec (features pooled to 16-d). Returns the `file:` source.
 */
export async function tinyBackbone(dir: string): Promise<string> {
  const b = new GraphBuilder('tiny_backbone');
  const x = b.input('image', 'float32', ['batch', 3, 16, 16]);
  const w1 = b.constant('w1', float32([8, 3, 3, 3], weights(8 * 27, 11, 0.4)));
  const b1 = b.constant('b1', float32([8], weights(8, 12, 0.1)));
  const h = b.op('Relu', [b.op('Conv', [x, w1, b1], { pads: attr.ints([1, 1, 1, 1]) })]);
  const w2 = b.constant('w2', float32([16, 8, 3, 3], weights(16 * 72, 13, 0.3)));
  const b2 = b.constant('b2', float32([16], weights(16, 14, 0.1)));
  const c = b.op('Conv', [h, w2, b2], { pads: attr.ints([1, 1, 1, 1]), strides: attr.ints([2, 2]) });
  b.node('Relu', [c], {}, { outputs: ['features'] });
  b.output('features', 'float32', ['batch', 16, 8, 8]);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'backbone.onnx');
  await saveModel(createModel(b.graph, 17), file);
  return `file:${file}`;
}

/** `n` MNIST digits as 28×28 PNGs in `dir/<digit>/<k>.png` plus a `manifest.csv` (path,label); returns it. */
export async function digitFiles(dir: string, n: number): Promise<string> {
  const mnist = loadMnist();
  const rows = ['path,label'];
  const stride = Math.floor(mnist.examples.length / n);
  for (let i = 0; i < n; i++) {
    const ex = mnist.examples[i * stride]!;
    const raw = ex.source as { width: number; height: number; channels: 1; data: Uint8Array };
    const label = mnist.labels[ex.label]!;
    mkdirSync(join(dir, label), { recursive: true });
    const rel = join(label, `${i}.png`);
    const png = await sharp(Buffer.from(raw.data), { raw: { width: 28, height: 28, channels: 1 } })
      .png()
      .toBuffer();
    writeFileSync(join(dir, rel), png);
    rows.push(`${rel},${label}`);
  }
  const manifest = join(dir, 'manifest.csv');
  writeFileSync(manifest, `${rows.join('\n')}\n`);
  return manifest;
}
