/**
 * A dense head as a TrainableModel: one ONNX Runtime session runs forward + loss + gradients (built by graft's
 * autodiff), another runs inference with the current parameters fed as inputs, so weights change every step
 * without rebuilding anything.
 */
import { addSoftmaxCrossEntropy, buildTrainingGraph, type CrossEntropyOptions } from '../autodiff/index.js';
import { GraphBuilder } from '../onnx/builder.js';
import { createModel, type Graph } from '../onnx/ir.js';
import { Session, type SessionOptions } from '../runtime/session.js';
import type { Batch, TrainableModel } from '../train/types.js';
import type { Tensor } from '../tensor.js';
import {
  buildDenseHead,
  initDenseParams,
  withParams,
  type DenseHeadSpec,
  type Standardizer,
} from '../heads/dense.js';

export interface HeadModelOptions {
  spec: DenseHeadSpec;
  inputDim: number;
  numClasses: number;
  standardize?: Standardizer;
  loss?: CrossEntropyOptions;
  /** Seeds parameter initialisation and dropout. */
  seed: number;
  uniform: () => number;
  session?: SessionOptions;
  /**
   * One fixed batch (e.g. the whole training set) that every training step uses: callers then pass only the
   * parameters (what full-batch solvers such as L-BFGS want). It is standardised once, here, and fed to ONNX
   * Runtime without copying; serialising it into the graph as initializers cost seconds at session creation.
   */
  fixedBatch?: { features: Float32Array; labels: Int32Array };
}

/** Turns the named initializers of a graph into graph inputs (parameters fed at run time). */
export function paramsAsInputs(graph: Graph, names: readonly string[]): Graph {
  const initializers = new Map(graph.initializers);
  const inputs = [...graph.inputs];
  for (const name of names) {
    const t = initializers.get(name)!;
    initializers.delete(name);
    inputs.push({ name, dtype: 'float32', shape: [...t.shape] });
  }
  return { ...graph, initializers, inputs };
}

export class HeadModel implements TrainableModel {
  readonly params: Map<string, Float32Array>;
  private readonly shapes = new Map<string, number[]>();

  private constructor(
    readonly options: HeadModelOptions,
    private readonly train: Session,
    private readonly infer: Session,
    private readonly gradientNames: Readonly<Record<string, string>>,
    private readonly lossName: string,
    params: Map<string, Float32Array>,
    private readonly exportGraph: Graph,
    private readonly fixedFeeds: Record<string, Tensor> = {},
  ) {
    this.params = params;
    for (const [name, t] of exportGraph.initializers) this.shapes.set(name, [...t.shape]);
  }

  static async create(options: HeadModelOptions): Promise<HeadModel> {
    const { spec, inputDim, numClasses } = options;
    const common = { inputDim, numClasses, standardize: options.standardize, dropoutSeed: options.seed };
    const fixed = options.fixedBatch;
    // A fixed batch is standardised up front, so its training graph starts at the standardised features.
    const trainHead = buildDenseHead(spec, {
      ...common,
      standardize: fixed ? undefined : options.standardize,
      mode: 'train',
    });
    const b = new GraphBuilder(trainHead.graph);
    const labels = b.input('labels', 'int64', ['batch']);
    const loss = addSoftmaxCrossEntropy(b, trainHead.output, labels, numClasses, options.loss);
    b.output(loss, 'float32', []);
    const training = buildTrainingGraph(createModel(b.graph), { params: trainHead.paramNames, loss });

    const exportHead = buildDenseHead(spec, { ...common, mode: 'export' });
    const inferModel = createModel(paramsAsInputs(exportHead.graph, exportHead.paramNames));
    const [train, infer] = await Promise.all([
      Session.create(training.model, options.session),
      Session.create(inferModel, options.session),
    ]);
    const params = initDenseParams(spec, inputDim, numClasses, options.uniform);
    const fixedFeeds = fixed ? batchFeeds(fixed, inputDim, options.standardize) : undefined;
    return new HeadModel(
      options,
      train,
      infer,
      training.gradients,
      training.loss,
      params,
      exportHead.graph,
      fixedFeeds,
    );
  }

  /** Fresh random parameters (same shapes), e.g. between cross-validation folds. */
  reset(uniform: () => number): void {
    const { spec, inputDim, numClasses } = this.options;
    for (const [name, value] of initDenseParams(spec, inputDim, numClasses, uniform))
      this.params.set(name, value);
  }

  private paramFeeds(): Record<string, Tensor> {
    const feeds: Record<string, Tensor> = {};
    for (const [name, data] of this.params)
      feeds[name] = { dtype: 'float32', shape: this.shapes.get(name)!, data };
    return feeds;
  }

  /** Loss and gradients on the fixed batch (requires `fixedBatch`). */
  async fullBatchGradients(): Promise<{ loss: number; gradients: Map<string, Float32Array> }> {
    return this.runTraining({ ...this.fixedFeeds, ...this.paramFeeds() });
  }

  async computeGradients(batch: Batch): Promise<{ loss: number; gradients: Map<string, Float32Array> }> {
    const features = batch.inputs['features']!;
    const labels: Tensor = {
      dtype: 'int64',
      shape: [batch.labels.length],
      data: toInt64(batch.labels),
    };
    return this.runTraining({ features, labels, ...this.paramFeeds() });
  }

  private async runTraining(
    feeds: Record<string, Tensor>,
  ): Promise<{ loss: number; gradients: Map<string, Float32Array> }> {
    const out = await this.train.run(feeds, [this.lossName, ...Object.values(this.gradientNames)]);
    const gradients = new Map<string, Float32Array>();
    for (const [param, grad] of Object.entries(this.gradientNames))
      gradients.set(param, out[grad]!.data as Float32Array);
    return { loss: (out[this.lossName]!.data as Float32Array)[0]!, gradients };
  }

  async predictProbs(inputs: Record<string, Tensor>): Promise<Float32Array> {
    const out = await this.infer.run({ features: inputs['features']!, ...this.paramFeeds() }, [
      'probabilities',
    ]);
    return out['probabilities']!.data as Float32Array;
  }

  /** The export head (features → probabilities) with the current parameters baked in. */
  exportHead(): Graph {
    return withParams(this.exportGraph, this.params);
  }

  async release(): Promise<void> {
    await Promise.all([this.train.release(), this.infer.release()]);
  }
}

function toInt64(labels: Int32Array): BigInt64Array {
  const out = new BigInt64Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = BigInt(labels[i]!);
  return out;
}

/**
 * The fixed batch as feeds: features standardised in float32 exactly as the graph's Sub → Div would do it
 * (each step rounded to float32), labels as int64.
 */
function batchFeeds(
  batch: { features: Float32Array; labels: Int32Array },
  dim: number,
  standardize: Standardizer | undefined,
): Record<string, Tensor> {
  const n = batch.labels.length;
  let x = batch.features;
  if (standardize) {
    const { mean, std } = standardize;
    x = new Float32Array(n * dim);
    const src = batch.features;
    for (let r = 0, o = 0; r < n; r++) {
      for (let c = 0; c < dim; c++, o++) x[o] = Math.fround(src[o]! - mean[c]!) / std[c]!;
    }
  }
  return {
    features: { dtype: 'float32', shape: [n, dim], data: x },
    labels: { dtype: 'int64', shape: [n], data: toInt64(batch.labels) },
  };
}
