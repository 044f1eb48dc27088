import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import {
  batchShape,
  planResize,
  preprocessBatch,
  preprocessImage,
  preprocessRaw,
} from '../../src/preprocess/image.js';
import { RGB_4x2, encodeBmp, norm, rawSharp, solid, spec, tempDir } from './fixtures.js';

let dir = '';
let cleanup: () => Promise<void> = async () => {};
let png4x2 = '';

before(async () => {
  ({ dir, cleanup } = await tempDir());
  png4x2 = join(dir, 'four-by-two.png');
  await rawSharp(RGB_4x2, 4, 2, 3).png().toFile(png4x2);
});
after(() => cleanup());

/** Pixel (x, y, c) of RGB_4x2. */
const px = (x: number, y: number, c: number): number => RGB_4x2[(y * 4 + x) * 3 + c]!;

describe('preprocessImage values and layout', () => {
  it('centre-crops a 4x2 image to its middle 2x2 and normalises exactly (NHWC)', async () => {
    const s = spec();
    const out = await preprocessImage(png4x2, s);
    const expected: number[] = [];
    for (let y = 0; y < 2; y++)
      for (let x = 1; x <= 2; x++) for (let c = 0; c < 3; c++) expected.push(norm(px(x, y, c), s, c));
    assert.deepEqual([...out], expected);
  });

  it('lays the same values out channel-first for NCHW', async () => {
    const s = spec({ layout: 'NCHW' });
    const out = await preprocessImage(png4x2, s);
    const expected: number[] = [];
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 2; y++) for (let x = 1; x <= 2; x++) expected.push(norm(px(x, y, c), s, c));
    assert.deepEqual([...out], expected);
    assert.equal(out.length, 12);
  });

  it('upsamples 2x with nearest neighbour by replicating pixels', async () => {
    const s = spec({
      size: [4, 8],
      resizeShorter: 4,
      interpolation: 'nearest',
      mean: [0],
      std: [1],
      scale: 1,
    });
    const out = await preprocessImage(png4x2, s);
    for (let y = 0; y < 4; y++)
      for (let x = 0; x < 8; x++)
        for (let c = 0; c < 3; c++)
          assert.equal(out[(y * 8 + x) * 3 + c], px(x >> 1, y >> 1, c), `at ${x},${y},${c}`);
  });

  it("plain-resizes to size when crop is 'none' (aspect ratio ignored)", async () => {
    const s = spec({ size: [2, 4], crop: 'none', resizeShorter: 999, mean: [0], std: [1], scale: 1 });
    const out = await preprocessImage(png4x2, s);
    assert.deepEqual([...out], [...RGB_4x2]);
  });

  it('gives one channel of luma when channels is 1', async () => {
    const s = spec({ size: [2, 4], crop: 'none', channels: 1, mean: [0], std: [1], scale: 1 });
    const out = await preprocessImage(png4x2, s);
    assert.equal(out.length, 8);
    for (let i = 0; i < 8; i++) {
      const luma = 0.299 * px(i % 4, i >> 2, 0) + 0.587 * px(i % 4, i >> 2, 1) + 0.114 * px(i % 4, i >> 2, 2);
      assert.ok(Math.abs(out[i]! - luma) <= 1.5, `pixel ${i}: ${out[i]} vs ${luma}`);
    }
  });
});

describe('planResize', () => {
  it('follows torchvision Resize(256) + CenterCrop(224) for 640x480', () => {
    const p = planResize(640, 480, spec({ size: [224, 224], resizeShorter: 256 }));
    assert.deepEqual(p, {
      resizeWidth: 341,
      resizeHeight: 256,
      crop: { left: 58, top: 16, width: 224, height: 224 },
    });
  });
  it('handles portrait images and non-square crops', () => {
    const p = planResize(300, 600, spec({ size: [200, 100], resizeShorter: 100 }));
    assert.deepEqual(p, { resizeWidth: 100, resizeHeight: 200, crop: null });
  });
  it('scales up to cover the crop when resizeShorter is smaller than size', () => {
    const p = planResize(100, 100, spec({ size: [64, 64], resizeShorter: 32 }));
    assert.deepEqual(p, { resizeWidth: 64, resizeHeight: 64, crop: null });
  });
});

describe('formats and colour handling', () => {
  const identity = spec({ size: [2, 4], crop: 'none', mean: [0], std: [1], scale: 1 });

  it('applies EXIF orientation before resizing and cropping', async () => {
    // 64 wide x 32 high: left half red, right half blue; EXIF 6 = rotate 90° clockwise to display.
    const half = Buffer.alloc(64 * 32 * 3);
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 64; x++) half.set(x < 32 ? [255, 0, 0] : [0, 0, 255], (y * 64 + x) * 3);
    const file = join(dir, 'rotated.jpg');
    await rawSharp(half, 64, 32, 3).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toFile(file);
    const s = spec({ size: [64, 32], resizeShorter: 32, mean: [0], std: [1], scale: 1 });
    const out = await preprocessImage(file, s);
    const at = (x: number, y: number): number[] => [...out.subarray((y * 32 + x) * 3, (y * 32 + x) * 3 + 3)];
    const near = (a: number[], b: number[]): boolean => a.every((v, i) => Math.abs(v - b[i]!) < 30);
    assert.ok(near(at(16, 8), [255, 0, 0]), `top should be red, got ${at(16, 8)}`);
    assert.ok(near(at(16, 56), [0, 0, 255]), `bottom should be blue, got ${at(16, 56)}`);
  });

  it('expands a grayscale PNG to three equal channels', async () => {
    const gray = Uint8Array.from([0, 50, 100, 150, 200, 250, 10, 20]);
    const file = join(dir, 'gray.png');
    await rawSharp(gray, 4, 2, 1).png().toFile(file);
    const out = await preprocessImage(file, identity);
    assert.deepEqual(
      [...out],
      [...gray].flatMap((g) => [g, g, g]),
    );
  });

  it('flattens RGBA onto white by default and onto black on request', async () => {
    const rgba = Uint8Array.from([255, 0, 0, 255, 0, 255, 0, 0, 0, 0, 255, 255, 9, 9, 9, 0]);
    const file = join(dir, 'alpha.png');
    await rawSharp(rgba, 2, 2, 4).png().toFile(file);
    const s = spec({ size: [2, 2], crop: 'none', mean: [0], std: [1], scale: 1 });
    assert.deepEqual(
      [...(await preprocessImage(file, s))],
      [255, 0, 0, 255, 255, 255, 0, 0, 255, 255, 255, 255],
    );
    const black = await preprocessImage(file, s, { background: 'black' });
    assert.deepEqual([...black], [255, 0, 0, 0, 0, 0, 0, 0, 255, 0, 0, 0]);
  });

  it('reduces a 16-bit PNG to 8 bits', async () => {
    const file = join(dir, 'deep.png');
    await rawSharp(RGB_4x2, 4, 2, 3).toColourspace('rgb16').png().toFile(file);
    assert.deepEqual([...(await preprocessImage(file, identity))], [...RGB_4x2]);
  });

  it('converts a CMYK JPEG to RGB', async () => {
    const file = join(dir, 'cmyk.jpg');
    await solid(16, 16, [200, 100, 50]).toColourspace('cmyk').jpeg({ quality: 100 }).toFile(file);
    const out = await preprocessImage(
      file,
      spec({ size: [2, 2], resizeShorter: 2, mean: [0], std: [1], scale: 1 }),
    );
    assert.equal((await sharp(file).metadata()).space, 'cmyk');
    // The CMYK profile's gamut shifts the colour a little (sharp's own round trip gives ~199, 94, 21).
    for (let i = 0; i < out.length; i++)
      assert.ok(Math.abs(out[i]! - [200, 100, 50][i % 3]!) <= 35, `${i}: ${out[i]}`);
    assert.ok(out[0]! > out[1]! && out[1]! > out[2]!);
  });

  for (const fmt of ['webp', 'gif', 'tiff'] as const) {
    it(`decodes ${fmt}`, async () => {
      const file = join(dir, `img.${fmt}`);
      const base = rawSharp(RGB_4x2, 4, 2, 3);
      if (fmt === 'webp') await base.webp({ lossless: true }).toFile(file);
      else if (fmt === 'gif') await solid(4, 2, [255, 0, 0]).gif().toFile(file);
      else await base.tiff({ compression: 'lzw' }).toFile(file);
      const out = await preprocessImage(file, identity);
      const want = fmt === 'gif' ? Array.from({ length: 8 }, () => [255, 0, 0]).flat() : [...RGB_4x2];
      assert.deepEqual([...out], want);
    });
  }

  for (const [label, channels, topDown] of [
    ['24-bit bottom-up', 3, false],
    ['24-bit top-down', 3, true],
    ['32-bit', 4, false],
  ] as const) {
    it(`decodes ${label} BMP with our own decoder`, async () => {
      const data =
        channels === 3 ? RGB_4x2 : Uint8Array.from({ length: 32 }, (_, i) => (i % 4 === 3 ? 255 : i * 7));
      const file = join(dir, `img-${channels}-${topDown}.BMP`);
      await writeFile(file, encodeBmp(data, 4, 2, channels, topDown));
      const out = await preprocessImage(file, identity);
      const want = channels === 3 ? [...RGB_4x2] : [...data].filter((_, i) => i % 4 !== 3);
      assert.deepEqual([...out], want);
    });
  }
});

it('decodes an 8-bit palette BMP', async () => {
  // 2x2, palette [black, red, green, blue], rows bottom-up padded to 4 bytes.
  const bmp = Buffer.alloc(54 + 16 + 8);
  bmp.write('BM', 0, 'latin1');
  bmp.writeUInt32LE(bmp.length, 2);
  bmp.writeUInt32LE(54 + 16, 10);
  bmp.writeUInt32LE(40, 14);
  bmp.writeInt32LE(2, 18);
  bmp.writeInt32LE(2, 22);
  bmp.writeUInt16LE(1, 26);
  bmp.writeUInt16LE(8, 28);
  bmp.writeUInt32LE(4, 46);
  Buffer.from([0, 0, 0, 0, 0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0, 0]).copy(bmp, 54); // BGRA entries
  Buffer.from([3, 0, 0, 0, 1, 2, 0, 0]).copy(bmp, 70); // bottom row: blue, black; top row: red, green
  const s = spec({ size: [2, 2], crop: 'none', mean: [0], std: [1], scale: 1 });
  const out = await preprocessImage(bmp, s);
  assert.deepEqual([...out], [255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0]);
});

describe('raw pixels and batches', () => {
  it('preprocesses a raw 28x28 gray digit like a decoded image', async () => {
    const data = Uint8Array.from({ length: 784 }, (_, i) => i % 256);
    const s = spec({ size: [28, 28], resizeShorter: 28, channels: 1, mean: [0.1307], std: [0.3081] });
    const out = await preprocessRaw({ width: 28, height: 28, channels: 1, data }, s);
    assert.deepEqual(
      [...out],
      [...data].map((p) => norm(p, s, 0)),
    );
  });

  it('stacks images into one tensor in the spec layout, same values as one by one', async () => {
    const s = spec({ layout: 'NCHW' });
    const raw = { width: 4, height: 2, channels: 3 as const, data: RGB_4x2.map((v) => 255 - v) };
    const t = await preprocessBatch([png4x2, raw, png4x2], s, { concurrency: 2 });
    assert.deepEqual(t.shape, [3, 3, 2, 2]);
    assert.deepEqual(batchShape(3, spec()), [3, 2, 2, 3]);
    const a = await preprocessImage(png4x2, s);
    const b = await preprocessImage(raw, s);
    assert.deepEqual([...t.data], [...a, ...b, ...a]);
  });
});
