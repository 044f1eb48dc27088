/** Shared by the serve tests: a fixture model in a temp dir, test images, a server on port 0. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createServer, type GraftServer } from '../../src/serve/app.js';
import type { ServeOptions } from '../../src/serve/options.js';
import { buildFixtureModel } from './fixture-model.js';

export async function tempModel(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'graft-serve-'));
  const dir = await buildFixtureModel(join(root, 'model'));
  return { dir, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** A deterministic noisy RGB image of the given size, encoded as PNG or JPEG. */
export async function testImage(
  seed: number,
  format: 'png' | 'jpeg' = 'png',
  w = 16,
  h = 12,
): Promise<Uint8Array<ArrayBuffer>> {
  const data = Buffer.alloc(w * h * 3);
  let s = (seed * 2654435761) >>> 0 || 7;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = s >>> 24;
  }
  const img = sharp(data, { raw: { width: w, height: h, channels: 3 } });
  return new Uint8Array(await (format === 'png' ? img.png() : img.jpeg({ quality: 90 })).toBuffer());
}

export async function startServer(dir: string, options: ServeOptions = {}): Promise<GraftServer> {
  return createServer(dir, { port: 0, threads: 1, ...options });
}

export interface JsonResponse<T> {
  status: number;
  body: T;
  contentType: string;
}

export async function call<T = unknown>(url: string, init?: RequestInit): Promise<JsonResponse<T>> {
  const res = await fetch(url, init);
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  const body = (contentType.includes('json') ? JSON.parse(text) : text) as T;
  return { status: res.status, body, contentType };
}

export const postImage = (
  url: string,
  bytes: Uint8Array<ArrayBuffer>,
  type = 'image/png',
): Promise<JsonResponse<PredictBody>> =>
  call<PredictBody>(`${url}/predict`, { method: 'POST', headers: { 'content-type': type }, body: bytes });

export interface PredictBody {
  predictions: { label: string; probability: number; top: { label: string; probability: number }[] }[];
  model: string;
}

export interface ErrorResponseBody {
  error: { code: string; message: string };
}

/** The value of one sample line of a Prometheus exposition (0 when absent). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return 0;
}
