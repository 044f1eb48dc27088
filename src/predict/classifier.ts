/** A trained graft model, loaded from its directory: `const clf = await load(dir); await clf.predict(files)`. */
import type { ModelManifest } from '../export/manifest.js';
import { checkOutputWidth, openModelDir, type ModelDirOptions } from './model-dir.js';
import type { ImageInput } from '../preprocess/image-types.js';
import type { Session } from '../runtime/session.js';
import type { Tensor } from '../tensor.js';
import { encodeInputs } from './inputs.js';

export interface ClassScore {
  label: string;
  probability: number;
}

export interface Prediction extends ClassScore {
  /** The `topK` most probable classes, most probable first. */
  top: ClassScore[];
}

export interface PredictOptions {
  topK?: number;
  batchSize?: number;
  /** Called after each batch with the number of inputs done. */
  onBatch?: (done: number, total: number) => void;
}

export type PredictInput = ImageInput | { text: string };

export class Classifier {
  private constructor(
    readonly dir: string,
    readonly manifest: ModelManifest,
    private readonly session: Session,
  ) {}

  static async load(dir: string, options: ModelDirOptions = {}): Promise<Classifier> {
    const { manifest, session } = await openModelDir(dir, options);
    return new Classifier(dir, manifest, session);
  }

  get labels(): readonly string[] {
    return this.manifest.labels;
  }

  /** Class probabilities, row-major [inputs × labels]. */
  async predictProbs(inputs: readonly PredictInput[], options: PredictOptions = {}): Promise<Float32Array> {
    const c = this.labels.length;
    const out = new Float32Array(inputs.length * c);
    const batch = options.batchSize ?? 32;
    for (let start = 0; start < inputs.length; start += batch) {
      const part = inputs.slice(start, start + batch);
      const feeds: Record<string, Tensor> = await encodeInputs(part, this.manifest, this.dir);
      const result = await this.session.run(feeds, [this.manifest.output]);
      const scores = result[this.manifest.output]!.data as Float32Array;
      checkOutputWidth(this.dir, scores.length, part.length, c);
      out.set(scores, start * c);
      options.onBatch?.(Math.min(inputs.length, start + batch), inputs.length);
    }
    return out;
  }

  async predict(inputs: readonly PredictInput[], options: PredictOptions = {}): Promise<Prediction[]> {
    const probs = await this.predictProbs(inputs, options);
    const c = this.labels.length;
    const k = Math.max(1, Math.min(options.topK ?? 1, c));
    return inputs.map((_, i) => {
      const row = probs.subarray(i * c, (i + 1) * c);
      const order = [...row.keys()].sort((a, b) => row[b]! - row[a]!);
      const top = order.slice(0, k).map((j) => ({ label: this.labels[j]!, probability: row[j]! }));
      return { ...top[0]!, top };
    });
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

export const load = (dir: string, options?: ModelDirOptions): Promise<Classifier> =>
  Classifier.load(dir, options);
