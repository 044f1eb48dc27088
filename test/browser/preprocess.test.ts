/** The browser example's preprocessing module is graft's formula: same geometry, bit-identical floats. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IMAGENET_MEAN, IMAGENET_STD, type ImagePreprocess } from '../../src/models/spec.js';
import { planResize as graftPlan, preprocessImage } from '../../src/preprocess/image.js';
import { normalizePixels, planResize, topK } from '../../examples/browser/src/preprocess.js';

const spec = (over: Partial<ImagePreprocess> = {}): ImagePreprocess => ({
  kind: 'image',
  size: [24, 20],
  resizeShorter: 28,
  crop: 'center',
  interpolation: 'bilinear',
  layout: 'NHWC',
  channels: 3,
  scale: 1 / 255,
  mean: [...IMAGENET_MEAN],
  std: [...IMAGENET_STD],
  ...over,
});

test('planResize agrees with graft for many sizes and specs', () => {
  const specs = [
    spec(),
    spec({ crop: 'none' }),
    spec({ size: [224, 224], resizeShorter: 256 }),
    spec({ resizeShorter: 10 }),
  ];
  for (const s of specs) {
    for (const w of [1, 7, 20, 24, 33, 100, 257, 640]) {
      for (const h of [1, 9, 20, 24, 31, 480, 1000])
        assert.deepEqual(planResize(w, h, s), graftPlan(w, h, s), `${w}x${h}`);
    }
  }
});

test('normalizePixels equals graft preprocessImage exactly (NHWC, NCHW, gray)', async () => {
  const [h, w] = [24, 20];
  const rgb = new Uint8Array(w * h * 3).map((_, i) => (i * 97 + (i >> 3) * 13) & 255);
  const rgba = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < w * h; i++) rgba.set([rgb[i * 3]!, rgb[i * 3 + 1]!, rgb[i * 3 + 2]!, 255], i * 4);
  // resizeShorter = the shorter side of `size`: graft plans no resampling, so only the formula is compared.
  for (const s of [
    spec({ resizeShorter: 20 }),
    spec({ resizeShorter: 20, layout: 'NCHW' }),
    spec({ crop: 'none', channels: 1, mean: [0.5], std: [0.25] }),
    spec({ crop: 'none', scale: 1, mean: [127.5], std: [127.5] }),
  ]) {
    const graft = await preprocessImage({ width: w, height: h, channels: 3, data: rgb }, s);
    const page = normalizePixels({ width: w, height: h, data: rgba }, s);
    if (s.channels === 1) {
      // Gray follows libvips (linear-light luminance); its float32 arithmetic rounds ~1e-5 of colours differently.
      assert.equal(page.length, graft.length);
      let exact = 0;
      for (let i = 0; i < page.length; i++) {
        const d = Math.abs(page[i]! - graft[i]!);
        assert.ok(d <= (1 / 255 / 0.25) * 1.001, `pixel ${i}: ${page[i]} vs ${graft[i]}`);
        if (d === 0) exact++;
      }
      assert.ok(exact >= page.length * 0.99, `${exact}/${page.length} gray pixels exact`);
    } else assert.deepEqual(page, graft, `${s.layout} scale ${s.scale}`);
  }
  assert.throws(
    () => normalizePixels({ width: 2, height: 2, data: new Uint8ClampedArray(16) }, spec()),
    /resize/,
  );
});

test('alpha is composited onto white like graft', async () => {
  const s = spec({ size: [1, 2], crop: 'none' });
  const rgba = new Uint8ClampedArray([255, 0, 0, 0, 10, 20, 30, 255]);
  const page = normalizePixels({ width: 2, height: 1, data: rgba }, s);
  const graft = await preprocessImage({ width: 2, height: 1, channels: 4, data: rgba }, s);
  assert.deepEqual(page, graft);
});

test('topK orders by probability', () => {
  assert.deepEqual(topK([0.1, 0.6, 0.3], ['a', 'b', 'c'], 2), [
    { label: 'b', probability: 0.6 },
    { label: 'c', probability: 0.3 },
  ]);
});
