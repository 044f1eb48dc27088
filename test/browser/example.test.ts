/**
 * examples/browser end to end: vite build (once), serve dist + a fixture model, classify in headless Chromium
 * with onnxruntime-web, and compare with graft's Classifier (onnxruntime-node) on the same images.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { Classifier } from '../../src/predict/classifier.js';
import { quantizeModelDir } from '../../src/quantize/model-dir.js';
import { collectErrors, launchChromium } from './chromium.js';
import { LABELS, SIZE, writeFixtureModel } from './fixture-model.js';
import { serveStatic, type StaticServer } from './server.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/browser/', import.meta.url));
const TOL = 1e-4;

/** What examples/browser/src/main.ts puts on `window`. */
type PageWindow = typeof globalThis & {
  graftClassify(pixels: { width: number; height: number; data: Uint8ClampedArray }): Promise<number[]>;
  graftLabels(): Promise<string[]>;
};

let tmp: string;
let browser: Browser;
let server: StaticServer;
let page: Page;
let errors: string[];
let classifier: Classifier;
const images: { path: string; rgba: number[] }[] = [];

/** 16×16 opaque RGB test images, each leaning to one colour, with deterministic texture. */
function pixels(kind: number): Uint8Array {
  const px = new Uint8Array(SIZE * SIZE * 3);
  for (let i = 0; i < SIZE * SIZE; i++) {
    const x = i % SIZE;
    const y = (i / SIZE) | 0;
    const noise = (x * 37 + y * 91 + kind * 53) % 64;
    for (let c = 0; c < 3; c++) {
      const lean = kind === 3 ? 110 + x * 6 : c === kind ? 200 : 30;
      px[i * 3 + c] = Math.min(255, lean + noise - ((c * 17 + y * 3) % 29));
    }
  }
  return px;
}

function toRgba(rgb: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < rgb.length; i += 3) out.push(rgb[i]!, rgb[i + 1]!, rgb[i + 2]!, 255);
  return out;
}

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'graft-browser-'));
  const modelDir = join(tmp, 'model');
  const dist = join(tmp, 'dist');
  [browser] = await Promise.all([
    launchChromium(),
    writeFixtureModel(modelDir),
    build({
      root: EXAMPLE,
      configFile: join(EXAMPLE, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir: dist, emptyOutDir: true },
    }),
  ]);
  for (let k = 0; k < 4; k++) {
    const rgb = pixels(k);
    const path = join(tmp, `image${k}.png`);
    await sharp(Buffer.from(rgb), { raw: { width: SIZE, height: SIZE, channels: 3 } })
      .png()
      .toFile(path);
    images.push({ path, rgba: toRgba(rgb) });
  }
  // model.int8.onnx, calibrated on the four test images filed by class.
  for (const [k, label] of LABELS.entries()) {
    await mkdir(join(tmp, 'data', label), { recursive: true });
    await copyFile(images[k]!.path, join(tmp, 'data', label, 'image.png'));
  }
  await quantizeModelDir(modelDir, { calibration: join(tmp, 'data') });
  classifier = await Classifier.load(modelDir);
  server = await serveStatic({ '/model/': modelDir, '/': dist });
  page = await browser.newPage();
  errors = collectErrors(page);
  await page.goto(`${server.url}/?model=/model/`);
  await page.waitForSelector('body[data-ready]', { timeout: 60_000 });
  assert.equal(
    await page.getAttribute('body', 'data-ready'),
    'true',
    (await page.textContent('#status')) ?? undefined,
  );
});

after(async () => {
  await browser?.close();
  await server?.close();
  await classifier?.release();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('the page loads the model with the wasm backend, without errors', async () => {
  assert.deepEqual(await page.evaluate(() => (window as unknown as PageWindow).graftLabels()), LABELS);
  assert.ok(
    server.requests.some((r) => /\/assets\/ort-wasm-simd-threaded.*\.wasm$/.test(r)),
    'wasm served by us',
  );
  assert.ok(server.requests.includes('/model/model.onnx') && server.requests.includes('/model/graft.json'));
  assert.deepEqual(errors, []);
});

test('window.graftClassify matches graft (onnxruntime-node) within 1e-4 on input-sized images', async () => {
  const graft = await classifier.predictProbs(images.map((im) => im.path));
  const c = LABELS.length;
  const tops = new Set<number>();
  for (const [k, im] of images.entries()) {
    const probs = await page.evaluate(
      (rgba) =>
        (window as unknown as PageWindow).graftClassify({
          width: 16,
          height: 16,
          data: new Uint8ClampedArray(rgba),
        }),
      im.rgba,
    );
    assert.equal(probs.length, c);
    const expected = Array.from(graft.subarray(k * c, (k + 1) * c));
    for (let j = 0; j < c; j++) {
      assert.ok(
        Math.abs(probs[j]! - expected[j]!) <= TOL,
        `image ${k} class ${j}: ${probs[j]} vs ${expected[j]}`,
      );
    }
    tops.add(expected.indexOf(Math.max(...expected)));
  }
  assert.ok(tops.size >= 2, 'the fixture model separates the test images (not a constant output)');
  assert.deepEqual(errors, []);
});

test('picking a PNG file shows the same top 3 as Classifier.predict', async () => {
  const [expected] = await classifier.predict([images[2]!.path], { topK: 3 });
  const before = Number((await page.getAttribute('body', 'data-classified')) ?? 0);
  await page.setInputFiles('#file', images[2]!.path);
  await page.waitForSelector(`body[data-classified="${before + 1}"]`, { timeout: 30_000 });
  const shown = await page.$$eval('#results li', (lis) =>
    lis.map((li) => ({
      label: li.getAttribute('data-label')!,
      probability: Number(li.getAttribute('data-probability')),
    })),
  );
  assert.equal(shown.length, 3);
  assert.deepEqual(
    shown.map((s) => s.label),
    expected!.top.map((t) => t.label),
  );
  for (const [i, s] of shown.entries())
    assert.ok(Math.abs(s.probability - expected!.top[i]!.probability) <= TOL);
  assert.deepEqual(errors, []);
});

test('larger images are resized in the page and still give a probability vector', async () => {
  const probs = await page.evaluate(() => {
    const w = 40;
    const h = 24;
    const data = new Uint8ClampedArray(w * h * 4);
    for (let i = 0; i < w * h; i++) data.set([200, 40 + (i % w), 30, 255], i * 4);
    return (window as unknown as PageWindow).graftClassify({ width: w, height: h, data });
  });
  assert.equal(probs.length, LABELS.length);
  assert.ok(Math.abs(probs.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-5);
  assert.deepEqual(errors, []);
});

test('with ?int8 the page runs model.int8.onnx in onnxruntime-web like graft does in onnxruntime-node', async () => {
  const int8Page = await browser.newPage();
  const int8Errors = collectErrors(int8Page);
  try {
    await int8Page.goto(`${server.url}/?model=/model/&int8`);
    await int8Page.waitForSelector('body[data-ready]', { timeout: 60_000 });
    assert.equal(await int8Page.getAttribute('body', 'data-ready'), 'true');
    assert.ok(server.requests.includes('/model/model.int8.onnx'));
    const int8 = await Classifier.load(join(tmp, 'model'), { int8: true });
    const graft = await int8.predictProbs(images.map((im) => im.path));
    await int8.release();
    const c = LABELS.length;
    for (const [k, im] of images.entries()) {
      const probs = await int8Page.evaluate(
        (rgba) =>
          (window as unknown as PageWindow).graftClassify({
            width: 16,
            height: 16,
            data: new Uint8ClampedArray(rgba),
          }),
        im.rgba,
      );
      const expected = Array.from(graft.subarray(k * c, (k + 1) * c));
      for (let j = 0; j < c; j++)
        assert.ok(
          Math.abs(probs[j]! - expected[j]!) <= 1e-3,
          `image ${k} class ${j}: ${probs[j]} vs ${expected[j]}`,
        );
    }
    assert.deepEqual(int8Errors, []);
  } finally {
    await int8Page.close();
  }
});
