import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  augmentImage,
  augmentRng,
  isGreyImage,
  resolveAugment,
  sampleCrop,
} from '../../src/augment/image.js';
import { mulberry32 } from '../../src/data/random.js';
import type { RawImage } from '../../src/preprocess/image-types.js';

/** A w×h image whose pixel (x, y) has a distinct value per channel: R = x, G = y, B = 7·x + y (mod 256). */
function gradient(w: number, h: number): RawImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) data.set([x, y, (7 * x + y) % 256], (y * w + x) * 3);
  return { width: w, height: h, channels: 3, data };
}

test('the same generator state gives the same augmented image; another one differs', () => {
  const img = gradient(40, 30);
  const a = augmentImage(img, augmentRng(3, 0, 5), { flip: 0.5 });
  const b = augmentImage(img, augmentRng(3, 0, 5), { flip: 0.5 });
  const c = augmentImage(img, augmentRng(3, 1, 5), { flip: 0.5 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('a grey image stays grey: one channel, and RGB with equal channels', () => {
  const one: RawImage = {
    width: 20,
    height: 20,
    channels: 1,
    data: new Uint8Array(400).map((_, i) => i % 251),
  };
  const rgb: RawImage = { width: 20, height: 20, channels: 3, data: new Uint8Array(1200) };
  for (let i = 0; i < 400; i++) rgb.data.fill((i * 37) % 256, 3 * i, 3 * i + 3);
  assert.ok(isGreyImage(one) && isGreyImage(rgb));
  for (let s = 0; s < 20; s++) {
    const out = augmentImage(rgb, mulberry32(s), { crop: false });
    // No jitter on grey: with the crop off the pixels are exactly the input's.
    assert.deepEqual(out.data, rgb.data);
    assert.ok(isGreyImage(augmentImage(rgb, mulberry32(s))));
    const g = augmentImage(one, mulberry32(s), { crop: false });
    assert.deepEqual(g.data, one.data);
  }
});

test('colour images are jittered by default, and not with jitter: false', () => {
  const img = gradient(16, 16);
  const changed = [0, 1, 2, 3].some((s) => {
    const out = augmentImage(img, mulberry32(s), { crop: false });
    return out.data.some((v, i) => v !== img.data[i]);
  });
  assert.ok(changed);
  assert.deepEqual(augmentImage(img, mulberry32(0), { crop: false, jitter: false }).data, img.data);
});

test('crops stay inside the image and keep at least the minimum area fraction', () => {
  const rng = mulberry32(11);
  for (const [w, h] of [
    [28, 28],
    [200, 50],
    [31, 97],
  ] as const) {
    for (let i = 0; i < 300; i++) {
      const b = sampleCrop(w, h, rng, [0.5, 1]);
      assert.ok(b.x >= 0 && b.y >= 0 && b.x + b.w <= w && b.y + b.h <= h, JSON.stringify(b));
      // Rounding of the sides can shave a little off the sampled area; the fallback is a centre crop of
      // the clamped aspect ratio (at least 3/4 of the short side's square).
      assert.ok(b.w * b.h >= 0.5 * w * h * 0.9 || b.w === w || b.h === h, JSON.stringify(b));
    }
  }
});

test('the crop copies the pixels of its box; flips are off unless asked for', () => {
  const img = gradient(40, 30);
  for (let s = 0; s < 10; s++) {
    const out = augmentImage(img, mulberry32(s), { jitter: false });
    // R = x and G = y of the source: the output is a contiguous, unmirrored box.
    const x0 = out.data[0]!;
    const y0 = out.data[1]!;
    for (let y = 0; y < out.height; y++)
      for (let x = 0; x < out.width; x++) {
        const o = (y * out.width + x) * 3;
        assert.equal(out.data[o], x0 + x);
        assert.equal(out.data[o + 1], y0 + y);
      }
  }
  const flipped = augmentImage(img, mulberry32(0), { crop: false, jitter: false, flip: 1 });
  assert.equal(flipped.data[0], 39); // the first pixel is the source's last column
});

test('settings outside their ranges are refused', () => {
  assert.throws(() => resolveAugment({ crop: { scale: [0, 1] } }), /BAD_OPTION|scale/);
  assert.throws(() => resolveAugment({ crop: { scale: [0.8, 0.5] } }), /scale/);
  assert.throws(() => resolveAugment({ flip: 2 }), /flip/);
  assert.deepEqual(resolveAugment().crop, { scale: [0.5, 1], ratio: [3 / 4, 4 / 3] });
  assert.equal(resolveAugment().flip, 0);
});
