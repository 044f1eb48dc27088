/**
 * TrainableGraph: the one object that trains an ONNX graph, for images and text alike. It owns two ONNX Runtime
 * sessions — training (forward + loss + gradients built by graft's autodiff) and inference (probabilities) —
 * with every parameter a graph input, so the optimizer changes weights between steps without rebuilding
 * anything. It feeds the parameters, converts labels to int64, maps gradient outputs back to parameter names,
 * and keeps buffers (e.g. BatchNormalization running statistics) up to date from the training graph's extra
 * outputs (a training graph with graft's native ops runs as a SegmentedSession). Models (a dense head, a backbone suffix + head, an encoder + head) build the graphs and hand them
 * over; this class runs them.
 */
import type { TrainingGraph } from '../autodiff/index.js';
import { Mulberry32 } from '../data/random.js';
import { GraftError } from '../errors.js';
import { isDropoutNoise } from '../heads/dense.js';
import type { Model } from '../onnx/ir.js';
import { createRunner, type GraphRunner } from '../runtime/segmented-session.js';
import { Session, type SessionOptions } from '../runtime/session.js';
import { int64, type Tensor } from '../tensor.js';
import type { Batch, TrainableModel, Uniform } from '../train/types.js';

/** The training graph's int64 label input. */
export const LABELS = 'labels';

/**
 * What a training session runs with unless its options say otherwise:
 * - no memory pattern (a training step's planned block would come on top of the arena's blocks and nearly
 *   double the peak memory);
 * - threads that block between parallel sections (PyTorch's OMP_WAIT_POLICY=PASSIVE): spinning threads take the
 *   cores from the optimizer or solver that runs between steps, and from everything else on a shared machine;
 * - the gradient outputs' Identity nodes kept (ONNX Runtime's EliminateIdentity off). Removed, they hand each
 *   graph output to the node computing a weight gradient, and ONNX Runtime then runs those nodes late, holding
 *   the activations and incoming gradients they read: MobileNetV2's full training step at 224×224, batch 32,
 *   peaks at 2.3 GB instead of 1.26 GB (same speed).
 */
export const TRAINING_SESSION: Readonly<SessionOptions> = {
  memoryPattern: false,
  spinWait: false,
  disabledOptimizers: ['EliminateIdentity'],
};

export interface TrainableGraphOptions {
  /** Forward + loss + gradients; inputs: `inputs`, `labels` (int64 [batch]) and every entry of `params`. */
  training: Pick<TrainingGraph, 'model' | 'loss' | 'gradients'>;
  /** The inference graph with parameters (and buffers) as graph inputs. */
  inference: Model;
  /** Its output read by predictProbs. */
  probabilities: string;
  /**
   * Parameters and buffers by name, used by reference (not copied): the optimizer updates the entries that have
   * gradients in place, buffer updates are written into theirs.
   */
  params: Map<string, Float32Array>;
  /** The data inputs a batch supplies, e.g. ['features'] or ['input_ids', 'attention_mask']. */
  inputs: readonly string[];
  /**
   * Batch inputs only the training graph reads (e.g. a teacher's logits for a distillation loss); the inference
   * graph never sees them.
   */
  trainingInputs?: readonly string[];
  /** [buffer, training output that holds its new value] pairs, applied after every gradient step. */
  buffers?: readonly (readonly [string, string])[];
  session?: SessionOptions;
  /**
   * Options of the training session (default `session`), over TRAINING_SESSION's defaults.
   */
  trainingSession?: SessionOptions;
  /** Seeds the dropout noise of calls that bring no generator of their own (the Trainer brings its own). */
  noiseSeed?: number;
}

export interface Gradients {
  loss: number;
  gradients: Map<string, Float32Array>;
}

export class TrainableGraph implements TrainableModel {
  readonly params: Map<string, Float32Array>;
  readonly inputs: readonly string[];
  private readonly shapes = new Map<string, readonly number[]>();
  private readonly trainInputs: Set<string>;
  private readonly inferInputs: Set<string>;
  /** The training graph's dropout noise inputs and their widths. */
  private readonly noiseInputs: { name: string; width: number }[];
  private readonly ownNoise: Mulberry32;

  private constructor(
    private readonly o: TrainableGraphOptions,
    private readonly train: GraphRunner,
    private readonly infer: Session,
  ) {
    this.params = o.params;
    this.inputs = o.inputs;
    for (const m of [o.training.model, o.inference])
      for (const v of m.graph.inputs)
        if (v.shape && !this.shapes.has(v.name)) this.shapes.set(v.name, v.shape as number[]);
    this.trainInputs = new Set(o.training.model.graph.inputs.map((v) => v.name));
    this.inferInputs = new Set(o.inference.graph.inputs.map((v) => v.name));
    this.noiseInputs = o.training.model.graph.inputs
      .filter((v) => isDropoutNoise(v.name))
      .map((v) => ({ name: v.name, width: Number(v.shape?.[1]) }));
    this.ownNoise = new Mulberry32(o.noiseSeed ?? 0);
  }

  /** Uniform noise for every dropout input of the training graph, for a batch of `n`. */
  private noiseFeeds(n: number, uniform: Uniform | undefined): Record<string, Tensor> {
    const draw = uniform ?? (() => this.ownNoise.next());
    const feeds: Record<string, Tensor> = {};
    for (const { name, width } of this.noiseInputs) {
      const data = new Float32Array(n * width);
      for (let i = 0; i < data.length; i++) data[i] = draw();
      feeds[name] = { dtype: 'float32', shape: [n, width], data };
    }
    return feeds;
  }

  static async create(o: TrainableGraphOptions): Promise<TrainableGraph> {
    const [train, infer] = await Promise.all([
      createRunner(o.training.model, { ...TRAINING_SESSION, ...(o.trainingSession ?? o.session) }),
      Session.create(o.inference, o.session),
    ]);
    return new TrainableGraph(o, train, infer);
  }

  /** The training model (forward + loss + gradients). */
  get trainingModel(): Model {
    return this.o.training.model;
  }

  /** The inference model with parameters as inputs. */
  get inferenceModel(): Model {
    return this.o.inference;
  }

  /** The batch's data inputs by name; a single-input graph takes a batch's only tensor whatever its name. */
  dataFeeds(inputs: Readonly<Record<string, Tensor>>): Record<string, Tensor> {
    const feeds: Record<string, Tensor> = {};
    const values = Object.values(inputs);
    for (const name of this.inputs) {
      const t = inputs[name] ?? (this.inputs.length === 1 && values.length === 1 ? values[0] : undefined);
      if (!t) throw new GraftError('BAD_INPUT', `the batch has no input '${name}'`, { input: name });
      feeds[name] = t;
    }
    return feeds;
  }

  /** Class indices as the training graph's int64 label tensor. */
  static labels(labels: Int32Array): Tensor {
    return int64([labels.length], labels);
  }

  /** The current values of the parameters `graph` takes as inputs (`overrides` replace values by name). */
  private paramFeeds(
    graphInputs: ReadonlySet<string>,
    overrides?: ReadonlyMap<string, Float32Array>,
  ): Record<string, Tensor> {
    const feeds: Record<string, Tensor> = {};
    for (const [name, value] of this.params) {
      if (!graphInputs.has(name)) continue;
      const data = overrides?.get(name) ?? value;
      feeds[name] = { dtype: 'float32', shape: this.shapes.get(name)!, data };
    }
    return feeds;
  }

  /**
   * Loss and gradients for `feeds` (data inputs and labels; parameters are added), then buffer updates. For
   * callers that hold their data as feeds already, e.g. one fixed full batch.
   */
  async gradientsFor(feeds: Readonly<Record<string, Tensor>>, uniform?: Uniform): Promise<Gradients> {
    const t = this.o.training;
    const buffers = this.o.buffers ?? [];
    const n = Number(feeds[LABELS]?.shape[0] ?? 0);
    const run = { ...feeds, ...this.noiseFeeds(n, uniform), ...this.paramFeeds(this.trainInputs) };
    const out = await this.train.run(run, [
      t.loss,
      ...Object.values(t.gradients),
      ...buffers.map((b) => b[1]),
    ]);
    const gradients = new Map<string, Float32Array>();
    for (const [param, grad] of Object.entries(t.gradients))
      gradients.set(param, out[grad]!.data as Float32Array);
    for (const [buffer, output] of buffers) this.params.get(buffer)!.set(out[output]!.data as Float32Array);
    return { loss: (out[t.loss]!.data as Float32Array)[0]!, gradients };
  }

  computeGradients(batch: Batch, uniform?: Uniform): Promise<Gradients> {
    return this.gradientsFor(
      {
        ...this.dataFeeds(batch.inputs),
        ...this.trainingFeeds(batch.inputs),
        [LABELS]: TrainableGraph.labels(batch.labels),
      },
      uniform,
    );
  }

  /** The batch's training-only inputs (`trainingInputs`). */
  private trainingFeeds(inputs: Readonly<Record<string, Tensor>>): Record<string, Tensor> {
    const feeds: Record<string, Tensor> = {};
    for (const name of this.o.trainingInputs ?? []) {
      const t = inputs[name];
      if (!t) throw new GraftError('BAD_INPUT', `the batch has no input '${name}'`, { input: name });
      feeds[name] = t;
    }
    return feeds;
  }

  /**
   * Runs the training graph on a batch for `outputs` only, with `overrides` in place of some parameter values;
   * nothing is updated (e.g. to read batch statistics).
   */
  async runTraining(
    batch: Batch,
    outputs: readonly string[],
    overrides?: ReadonlyMap<string, Float32Array>,
  ): Promise<Record<string, Tensor>> {
    return this.train.run(
      {
        ...this.dataFeeds(batch.inputs),
        ...this.trainingFeeds(batch.inputs),
        [LABELS]: TrainableGraph.labels(batch.labels),
        ...this.noiseFeeds(batch.labels.length, undefined),
        ...this.paramFeeds(this.trainInputs, overrides),
      },
      outputs,
    );
  }

  /** Inference outputs with the current parameters. */
  async run(
    inputs: Readonly<Record<string, Tensor>>,
    outputs: readonly string[],
  ): Promise<Record<string, Tensor>> {
    return this.infer.run({ ...this.dataFeeds(inputs), ...this.paramFeeds(this.inferInputs) }, outputs);
  }

  async predictProbs(inputs: Record<string, Tensor>): Promise<Float32Array> {
    const p = this.o.probabilities;
    return (await this.run(inputs, [p]))[p]!.data as Float32Array;
  }

  /** Shape of a parameter or buffer (as the graphs declare it). */
  shapeOf(name: string): readonly number[] | undefined {
    return this.shapes.get(name);
  }

  async release(): Promise<void> {
    await Promise.all([this.train.release(), this.infer.release()]);
  }
}
