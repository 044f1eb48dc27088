/**
 * graft in the browser: load a graft model directory (model.onnx + graft.json), preprocess a picked image as
 * graft.json says, run it with onnxruntime-web (wasm) and show the top 3 classes.
 */
import * as ort from 'onnxruntime-web/wasm';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import { inputShape, normalizePixels, planResize, topK, type ImageSpec, type RgbaPixels } from './preprocess';

// Vite copies the .wasm next to the bundle; the JS glue is part of the bundle. One thread: no cross-origin
// isolation here, so no SharedArrayBuffer.
ort.env.wasm.wasmPaths = { wasm: wasmUrl };
ort.env.wasm.numThreads = 1;
ort.env.wasm.proxy = false;

interface Manifest {
  labels: string[];
  inputs: string[];
  output: string;
  preprocess: ImageSpec | { kind: 'text' };
  /** Written by `graft quantize`: the int8 copy of model.onnx. */
  int8?: { file: string };
}

interface Model {
  manifest: Manifest & { preprocess: ImageSpec };
  session: ort.InferenceSession;
}

declare global {
  interface Window {
    /** Class probabilities for RGBA pixels of any size (resized and cropped as graft.json says). */
    graftClassify: (pixels: RgbaPixels) => Promise<number[]>;
    graftLabels: () => Promise<string[]>;
  }
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

function modelBase(): string {
  const dir = new URLSearchParams(location.search).get('model') ?? './model/';
  return new URL(dir.endsWith('/') ? dir : `${dir}/`, location.href).href;
}

async function fetchOk(url: string): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res;
}

async function loadModel(): Promise<Model> {
  const base = modelBase();
  const manifest = (await (await fetchOk(new URL('graft.json', base).href)).json()) as Manifest;
  if (manifest.preprocess.kind !== 'image')
    throw new Error('this page classifies images; the model is a text model');
  // `?int8` runs the int8 model `graft quantize` wrote (onnxruntime-web runs its QDQ graph as it is).
  const int8 = new URLSearchParams(location.search).has('int8');
  if (int8 && !manifest.int8)
    throw new Error('no int8 model here: run `graft quantize` on the model directory');
  const file = int8 ? manifest.int8!.file : 'model.onnx';
  const bytes = new Uint8Array(await (await fetchOk(new URL(file, base).href)).arrayBuffer());
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  return { manifest: manifest as Model['manifest'], session };
}

const modelPromise = loadModel();

function context(w: number, h: number): CanvasRenderingContext2D {
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d', { willReadFrequently: true, colorSpace: 'srgb' });
  if (!ctx) throw new Error('no 2D canvas');
  return ctx;
}

/**
 * Resize + centre crop as graft plans it. Canvas resampling is not graft's (its native resampler, or sharp), so
 * resized images differ slightly from graft's; images already at the planned size pass through untouched
 * (bit-exact).
 */
function toModelPixels(
  source: CanvasImageSource,
  width: number,
  height: number,
  spec: ImageSpec,
): RgbaPixels {
  const plan = planResize(width, height, spec);
  const [outH, outW] = spec.size;
  const ctx = context(plan.resizeWidth, plan.resizeHeight);
  ctx.imageSmoothingEnabled = spec.interpolation !== 'nearest';
  ctx.imageSmoothingQuality = spec.interpolation === 'bicubic' ? 'high' : 'medium';
  ctx.drawImage(source, 0, 0, plan.resizeWidth, plan.resizeHeight);
  const crop = plan.crop ?? { left: 0, top: 0, width: outW, height: outH };
  return ctx.getImageData(crop.left, crop.top, crop.width, crop.height);
}

async function classifyPixels(px: RgbaPixels): Promise<number[]> {
  const { manifest, session } = await modelPromise;
  const spec = manifest.preprocess;
  const plan = planResize(px.width, px.height, spec);
  let ready = px;
  if (plan.crop !== null || plan.resizeWidth !== px.width || plan.resizeHeight !== px.height) {
    const data = new Uint8ClampedArray(px.data);
    const bitmap = await createImageBitmap(new ImageData(data, px.width, px.height), {
      premultiplyAlpha: 'none',
      colorSpaceConversion: 'none',
    });
    ready = toModelPixels(bitmap, px.width, px.height, spec);
    bitmap.close();
  }
  const input = new ort.Tensor('float32', normalizePixels(ready, spec), inputShape(spec));
  const out = await session.run({ [manifest.inputs[0]!]: input });
  return Array.from(out[manifest.output]!.data as Float32Array);
}

async function classifyFile(file: File): Promise<void> {
  const { manifest } = await modelPromise;
  const bitmap = await createImageBitmap(file, {
    premultiplyAlpha: 'none',
    colorSpaceConversion: 'none',
    imageOrientation: 'from-image',
  });
  const ctx = context(bitmap.width, bitmap.height);
  ctx.drawImage(bitmap, 0, 0);
  const pixels = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
  const preview = $<HTMLCanvasElement>('preview');
  preview.width = bitmap.width;
  preview.height = bitmap.height;
  preview.getContext('2d')!.drawImage(bitmap, 0, 0);
  bitmap.close();
  const probs = await classifyPixels(pixels);
  const list = $<HTMLOListElement>('results');
  list.replaceChildren(
    ...topK(probs, manifest.labels, 3).map(({ label, probability }) => {
      const li = document.createElement('li');
      li.dataset['label'] = label;
      li.dataset['probability'] = String(probability);
      li.textContent = `${label} — ${(probability * 100).toFixed(2)}%`;
      return li;
    }),
  );
  document.body.dataset['classified'] = String(Number(document.body.dataset['classified'] ?? 0) + 1);
}

window.graftClassify = classifyPixels;
window.graftLabels = async () => (await modelPromise).manifest.labels;

const status = $<HTMLParagraphElement>('status');
modelPromise.then(
  (m) => {
    status.textContent = `Model loaded: ${m.manifest.labels.length} classes (${m.manifest.labels.join(', ')}).`;
    document.body.dataset['ready'] = 'true';
  },
  (e: unknown) => {
    status.textContent = `Could not load the model: ${e instanceof Error ? e.message : String(e)}`;
    document.body.dataset['ready'] = 'error';
    console.error(e);
  },
);

$<HTMLInputElement>('file').addEventListener('change', (ev) => {
  const file = (ev.target as HTMLInputElement).files?.[0];
  if (!file) return;
  classifyFile(file).catch((e: unknown) => {
    status.textContent = `Could not classify ${file.name}: ${e instanceof Error ? e.message : String(e)}`;
    console.error(e);
  });
});
