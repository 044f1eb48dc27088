/**
 * Inputs of the trainable suffix: the frozen prefix (input → cut) runs once per example and its activations are
 * kept in memory (keyed by cut and example id), so epochs and recipe phases with the same cut reuse them. With
 * augmentation the training items are augmented on raw pixels every epoch and run through the prefix each time:
 * the cache is bypassed for them (`ActivationSource.cached` says so), and kept for validation and test.
 */
import { augmentImage, augmentRng, toRawImage, type AugmentOptions } from '../../augment/image.js';
import type { Example, ImageSource } from '../../data/types.js';
import type { ImagePreprocess } from '../../models/spec.js';
import type { Model } from '../../onnx/ir.js';
import { batchShape, imageLength, preprocessInto } from '../../preprocess/image.js';
import { Session, type SessionOptions } from '../../runtime/session.js';
import type { Tensor } from '../../tensor.js';
import { arrayDataSource } from '../../train/data-source.js';
import { deriveSeed, permutation, Rng } from '../../train/random.js';
import type { Batch, DataSource } from '../../train/types.js';

/** Runs a frozen prefix (or nothing, when training from the input) over preprocessed images. */
export class PrefixRunner {
  private constructor(
    private readonly session: Session | undefined,
    readonly inputName: string,
    readonly output: string,
    readonly preprocess: ImagePreprocess,
  ) {}

  static async create(
    prefix: Model | undefined,
    inputName: string,
    output: string,
    preprocess: ImagePreprocess,
    session?: SessionOptions,
  ): Promise<PrefixRunner> {
    return new PrefixRunner(prefix && (await Session.create(prefix, session)), inputName, output, preprocess);
  }

  /** Activations for images (raw sources), [n, ...cutShape], run in batches. */
  async run(images: readonly ImageSource[], batchSize = 32): Promise<Tensor> {
    const per = imageLength(this.preprocess);
    const parts: Float32Array[] = [];
    let shape: number[] = [];
    for (let s = 0; s < images.length; s += batchSize) {
      const chunk = images.slice(s, s + batchSize);
      const input = new Float32Array(per * chunk.length);
      await Promise.all(chunk.map((img, i) => preprocessInto(img, this.preprocess, input, i * per)));
      const x: Tensor = { dtype: 'float32', shape: batchShape(chunk.length, this.preprocess), data: input };
      const out = this.session
        ? (await this.session.run({ [this.inputName]: x }, [this.output]))[this.output]!
        : x;
      shape = out.shape.slice(1);
      parts.push(out.data as Float32Array);
    }
    const data = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) {
      data.set(p, off);
      off += p.length;
    }
    return { dtype: 'float32', shape: [images.length, ...shape], data };
  }

  async release(): Promise<void> {
    await this.session?.release();
  }
}

/** In-memory activations per (cut, example id). */
export class ActivationCache {
  private readonly rows = new Map<string, Float32Array>();
  private readonly shapes = new Map<string, number[]>();
  hits = 0;
  misses = 0;

  async get(runner: PrefixRunner, examples: readonly Example<ImageSource>[]): Promise<Tensor> {
    const key = (e: Example<ImageSource>) => `${runner.output}\n${e.id}`;
    const missing = examples.filter((e) => !this.rows.has(key(e)));
    this.hits += examples.length - missing.length;
    this.misses += missing.length;
    if (missing.length) {
      const t = await runner.run(missing.map((e) => e.source));
      const per = t.data.length / missing.length;
      this.shapes.set(runner.output, t.shape.slice(1));
      missing.forEach((e, i) =>
        this.rows.set(key(e), (t.data as Float32Array).slice(i * per, (i + 1) * per)),
      );
    }
    const first = this.rows.get(key(examples[0]!))!;
    const data = new Float32Array(first.length * examples.length);
    examples.forEach((e, i) => data.set(this.rows.get(key(e))!, i * first.length));
    return { dtype: 'float32', shape: [examples.length, ...this.shapes.get(runner.output)!], data };
  }
}

export interface ActivationSource extends DataSource {
  /** False when augmentation bypasses the activation cache (the prefix runs on every augmented batch). */
  readonly cached: boolean;
}

/** Training batches for a suffix whose input is `runner.output`, cached or augmented. */
export async function activationSource(
  runner: PrefixRunner,
  cache: ActivationCache,
  examples: readonly Example<ImageSource>[],
  seed: number,
  augment?: AugmentOptions,
): Promise<ActivationSource> {
  const labels = Int32Array.from(examples, (e) => e.label);
  if (!augment) {
    const t = await cache.get(runner, examples);
    return { ...arrayDataSource({ [runner.output]: t }, labels, { seed }), cached: true };
  }
  const raws = await Promise.all(examples.map((e) => toRawImage(e.source)));
  return {
    size: examples.length,
    cached: false,
    async *batches(batchSize: number, epoch: number, shuffle: boolean): AsyncIterable<Batch> {
      const n = examples.length;
      const order = shuffle
        ? permutation(n, new Rng(deriveSeed(seed, epoch)))
        : Int32Array.from({ length: n }, (_, i) => i);
      for (let s = 0; s < n; s += batchSize) {
        const idx = Array.from(order.subarray(s, Math.min(n, s + batchSize)));
        const imgs = idx.map((i) => augmentImage(raws[i]!, augmentRng(seed, epoch, i), augment));
        const t = await runner.run(imgs, batchSize);
        yield { inputs: { [runner.output]: t }, labels: Int32Array.from(idx, (i) => labels[i]!) };
      }
    },
  };
}
