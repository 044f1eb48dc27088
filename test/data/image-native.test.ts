/**
 * graft's native image path (native/image: libjpeg-turbo, libpng, antialiased bilinear resampling) against
 * Pillow's decode + BILINEAR resize + crop of the same files (test/fixtures/preprocess, made by
 * make_pil_reference.py), and the header reader that decides which files take that path.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { crc32, deflateSync } from 'node:zlib';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { isGraftError } from '../../src/errors.js';
import type { ImagePreprocess } from '../../src/models/spec.js';
import { preprocessImage } from '../../src/preprocess/image.js';
import { readImageHeader } from '../../src/preprocess/image-header.js';
import { imagePipelineId, preprocessNative } from '../../src/preprocess/image-native.js';
import { normalizationTables } from '../../src/preprocess/image-normalize.js';
import { nativeImageAddon, nativeImageUnavailable } from '../../src/preprocess/native.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/preprocess/', import.meta.url));
const PNG_VARIANTS = fileURLToPath(new URL('../fixtures/png-variants/', import.meta.url));

interface Case {
  file: string;
  size: [number, number];
  resizeShorter: number;
  crop: 'none' | 'center';
}

/** A spec whose normalised values are the 8-bit levels themselves. */
const levels = (c: Case): ImagePreprocess => ({
  kind: 'image',
  size: c.size,
  resizeShorter: c.resizeShorter,
  crop: c.crop,
  interpolation: 'bilinear',
  layout: 'NHWC',
  channels: 3,
  scale: 1,
  mean: [0],
  std: [1],
});

describe('native image preprocessing', () => {
  it('is built (npm install compiles it; scripts/build-native.mjs)', () => {
    assert.equal(nativeImageUnavailable(), undefined);
  });

  it("matches Pillow (decode, DCT scaling, alpha on white, palette, gray, resize, crop) within Pillow's rounding", async () => {
    const cases = JSON.parse(await readFile(join(FIXTURES, 'cases.json'), 'utf8')) as Case[];
    assert.equal(cases.length, 6);
    for (const c of cases) {
      const spec = levels(c);
      const bytes = await readFile(join(FIXTURES, c.file));
      const expected = new Uint8Array(await readFile(join(FIXTURES, `${c.file}.rgb`)));
      const out = new Float32Array(expected.length);
      const tables = normalizationTables(spec);
      assert.ok(await preprocessNative(bytes, spec, out, 0, {}, tables), `${c.file} took the native path`);
      let worst = 0;
      let sum = 0;
      for (let i = 0; i < out.length; i++) {
        const d = Math.abs(out[i]! - expected[i]!);
        worst = Math.max(worst, d);
        sum += d;
      }
      // Both resample horizontally first and round to 8 bits between the passes, in fixed point: Pillow with
      // 22-bit weights, graft with 14-bit ones. Nearly every value is equal; a few are a level or two apart
      // (three in the 150k of photo.jpg), up to 3 on the hard edges of a 64-colour palette image.
      const limit = c.file === 'palette.png' ? 3 : 2;
      assert.ok(worst <= limit, `${c.file}: max |Δ| ${worst} levels`);
      assert.ok(sum / out.length < 0.05, `${c.file}: mean |Δ| ${sum / out.length}`);
    }
  });

  it('decodes every PNG colour type and bit depth, transparency and filter as sharp does', async () => {
    // make_png_variants.py: gray and palette at 1/2/4/8 bits, gray+alpha, RGB, RGBA, tRNS keys and palette
    // alpha, scanlines under all five filters; plus an interlaced file (graft hands those to libpng).
    const files = (await readdir(PNG_VARIANTS)).filter((f) => f.endsWith('.png'));
    assert.equal(files.length, 20);
    const inputs = await Promise.all(files.map((f) => readFile(join(PNG_VARIANTS, f))));
    const interlaced = await sharp(inputs[files.indexOf('type6.png')]!).png({ progressive: true }).toBuffer();
    for (const [name, bytes] of [
      ...files.map((f, i) => [f, inputs[i]!] as const),
      ['interlaced', interlaced] as const,
    ]) {
      const { data, info } = await sharp(bytes)
        .flatten({ background: '#ffffff' })
        .toColourspace('srgb')
        .raw()
        .toBuffer({ resolveWithObject: true });
      assert.equal(info.channels, 3, name);
      // Same size in and out: the resample is the identity and the output is the decoded pixels.
      const spec = levels({
        file: name,
        size: [info.height, info.width],
        resizeShorter: info.height,
        crop: 'none',
      });
      const out = new Float32Array(data.length);
      assert.ok(
        await preprocessNative(bytes, spec, out, 0, {}, normalizationTables(spec)),
        `${name} took the native path`,
      );
      let worst = 0;
      for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i]! - data[i]!));
      // Compositing onto white rounds once either way; sharp's may land a level away.
      assert.ok(worst <= 1, `${name}: max |Δ| ${worst} levels`);
    }
  });

  it('reads whole files in one job, null where a path cannot be read', async () => {
    const addon = nativeImageAddon()!;
    const photo = join(FIXTURES, 'photo.jpg');
    const [bytes, missing, dir, again] = await addon.readFiles([
      photo,
      join(FIXTURES, 'missing.png'),
      FIXTURES,
      photo,
    ]);
    assert.deepEqual(Buffer.from(bytes!), await readFile(photo));
    assert.equal(missing, null);
    assert.equal(dir, null);
    assert.deepEqual(again, bytes);
    assert.deepEqual(await addon.readFiles([]), []);
    assert.throws(() => addon.readFiles([42 as unknown as string]), TypeError);
  });

  it('refuses images whose header claims more than 0x3FFF² pixels before allocating for them', async () => {
    const chunk = (type: string, data: Buffer): Buffer => {
      const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
      const out = Buffer.alloc(12 + data.length);
      out.writeUInt32BE(data.length, 0);
      body.copy(out, 4);
      out.writeUInt32BE(crc32(body), 8 + data.length);
      return out;
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(20000, 0);
    ihdr.writeUInt32BE(20000, 4);
    ihdr[8] = 8; // bit depth
    ihdr[9] = 2; // RGB
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(Buffer.alloc(64))),
      chunk('IEND', Buffer.alloc(0)),
    ]);
    const jpeg = Buffer.from(
      await sharp(Buffer.alloc(8 * 8 * 3, 90), { raw: { width: 8, height: 8, channels: 3 } })
        .jpeg()
        .toBuffer(),
    );
    const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
    jpeg.writeUInt16BE(30000, sof + 5);
    jpeg.writeUInt16BE(30000, sof + 7);
    const spec = levels({ file: '', size: [8, 8], resizeShorter: 8, crop: 'none' });
    const tables = normalizationTables(spec);
    const out = new Float32Array(8 * 8 * 3);
    const addon = nativeImageAddon()!;
    const geometry = Int32Array.of(8, 8, 8, 8, 0, 0, 1, 0, 255);
    const packed = new Float32Array(768);
    for (const [bytes, format] of [
      [png, 2],
      [jpeg, 1],
    ] as const) {
      await assert.rejects(
        addon.preprocess(bytes, format, null, geometry, packed, out, 0),
        /image too large/,
      );
      assert.equal(await preprocessNative(bytes, spec, out, 0, {}, tables), false);
      // sharp, which the general path hands them to, refuses them by name
      await assert.rejects(preprocessImage(bytes, spec), (e: unknown) => isGraftError(e, 'BAD_INPUT'));
    }
  });

  it('names its pipeline for cache keys apart from sharp', () => {
    const rgb = levels({ file: '', size: [8, 8], resizeShorter: 8, crop: 'none' });
    assert.equal(imagePipelineId(rgb), 'graft-native-image/2');
    assert.equal(imagePipelineId({ ...rgb, interpolation: 'bicubic' }), 'sharp');
    assert.equal(imagePipelineId({ ...rgb, channels: 1 }), 'sharp');
  });

  it('writes NCHW planes and normalises with the spec', async () => {
    const c: Case = { file: 'wide.png', size: [112, 112], resizeShorter: 128, crop: 'center' };
    const path = join(FIXTURES, c.file);
    const nhwc = await preprocessImage(path, levels(c));
    const spec: ImagePreprocess = {
      ...levels(c),
      layout: 'NCHW',
      scale: 1 / 255,
      mean: [0.5, 0.4, 0.3],
      std: [0.2],
    };
    const nchw = await preprocessImage(path, spec);
    const plane = 112 * 112;
    for (const i of [0, 77, 5000, plane - 1]) {
      for (let ch = 0; ch < 3; ch++) {
        const want = Math.fround((nhwc[i * 3 + ch]! * (1 / 255) - spec.mean[ch]!) / 0.2);
        assert.equal(nchw[ch * plane + i], want);
      }
    }
  });

  it('leaves nothing written and returns false for what it does not handle', async () => {
    const spec = levels({ file: '', size: [8, 8], resizeShorter: 8, crop: 'none' });
    const out = new Float32Array(8 * 8 * 3).fill(-1);
    const tables = normalizationTables(spec);
    const truncated = (await readFile(join(FIXTURES, 'photo.jpg'))).subarray(0, 4000);
    assert.equal(await preprocessNative(truncated, spec, out, 0, {}, tables), false);
    assert.equal(await preprocessNative(new Uint8Array([1, 2, 3]), spec, out, 0, {}, tables), false);
    assert.equal(await preprocessNative(join(FIXTURES, 'missing.png'), spec, out, 0, {}, tables), false);
    const bicubic = { ...spec, interpolation: 'bicubic' as const };
    assert.equal(await preprocessNative(join(FIXTURES, 'gray.png'), bicubic, out, 0, {}, tables), false);
    assert.ok(out.every((v) => v === -1));
  });
});

describe('readImageHeader', () => {
  const rgb = (w: number, h: number) =>
    sharp(Buffer.alloc(w * h * 3, 90), { raw: { width: w, height: h, channels: 3 } });

  it('reads JPEG and PNG sizes and passes plain 8-bit files', async () => {
    assert.deepEqual(readImageHeader(await rgb(37, 21).jpeg().toBuffer()), {
      format: 'jpeg',
      width: 37,
      height: 21,
      simple: true,
    });
    assert.deepEqual(readImageHeader(await rgb(5, 300).png().toBuffer()), {
      format: 'png',
      width: 5,
      height: 300,
      simple: true,
    });
  });

  it('sends rotated, colour-managed, CMYK and 16-bit files to the general path', async () => {
    const upright = await rgb(8, 4)
      .jpeg()
      .withExif({ IFD0: { Orientation: '1' } })
      .toBuffer();
    assert.equal(readImageHeader(upright)?.simple, true);
    // The same file with its orientation entry (tag 0x0112, SHORT, count 1, little-endian) set to 6.
    const rotated = Buffer.from(upright);
    const entry = rotated.indexOf(Buffer.from([0x12, 0x01, 0x03, 0x00, 0x01, 0, 0, 0]));
    rotated[entry + 8] = 6;
    assert.equal((await sharp(rotated).metadata()).orientation, 6);
    assert.equal(readImageHeader(rotated)?.simple, false);
    const p3 = await rgb(8, 4).jpeg().withIccProfile('p3').toBuffer();
    assert.equal(readImageHeader(p3)?.simple, false);
    const cmyk = await rgb(8, 4).toColourspace('cmyk').jpeg().toBuffer();
    assert.equal(readImageHeader(cmyk)?.simple, false);
    const deep = await rgb(8, 4).toColourspace('rgb16').png().toBuffer();
    assert.equal(readImageHeader(deep)?.simple, false);
    const pngP3 = await rgb(8, 4).png().withIccProfile('p3').toBuffer();
    assert.equal(readImageHeader(pngP3)?.simple, false);
  });

  it('returns undefined for other formats and damaged headers', async () => {
    assert.equal(readImageHeader(await rgb(4, 4).webp().toBuffer()), undefined);
    assert.equal(readImageHeader(new Uint8Array(0)), undefined);
    const jpeg = await rgb(4, 4).jpeg().toBuffer();
    assert.equal(readImageHeader(jpeg.subarray(0, 30)), undefined);
    const png = await rgb(4, 4).png().toBuffer();
    const badChunk = Buffer.from(png);
    badChunk.write('XXXX', 12, 'latin1');
    assert.equal(readImageHeader(badChunk), undefined);
  });
});

describe('native decoding of damaged files', () => {
  it('rejects or decodes 400 truncated and corrupted JPEG/PNG files without crashing or writing on failure', async () => {
    const spec = levels({ file: '', size: [16, 16], resizeShorter: 16, crop: 'none' });
    const tables = normalizationTables(spec);
    let seed = 12345;
    const next = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    let decoded = 0;
    for (const file of ['photo.jpg', 'alpha.png', 'palette.png', 'gray.png']) {
      const good = await readFile(join(FIXTURES, file));
      for (let i = 0; i < 100; i++) {
        const bad = Buffer.from(good);
        const damaged = i % 2 ? bad.subarray(0, next(bad.length)) : bad;
        if (i % 2 === 0) for (let k = 0; k <= next(8); k++) damaged[next(damaged.length)] = next(256);
        const out = new Float32Array(16 * 16 * 3).fill(-1);
        if (await preprocessNative(damaged, spec, out, 0, {}, tables)) {
          decoded++;
          assert.ok(out.every((v) => v >= 0 && v <= 255));
        } else {
          assert.ok(out.every((v) => v === -1));
        }
      }
    }
    assert.ok(decoded < 400, 'damage was detected at least sometimes');
  });
});
