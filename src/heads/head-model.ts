/**
 * A dense head (features → probabilities) as a TrainableModel: builds the head's training and inference graphs
 * and runs them through a TrainableGraph; optionally one fixed, pre-standardised batch for full-batch solvers.
 */
import { addSoftmaxCrossEntropy, buildTrainingGraph, type CrossEntropyOptions } from '../autodiff/index.js';
import { GraphBuilder } from '../onnx/builder.js';
import { createModel, type Graph } from '../onnx/ir.js';
import { LABELS, TrainableGraph, type Gradients } from '../learner/trainable-graph.js';
import type { SessionOptions } from '../runtime/session.js';
import { GraphModel } from '../learner/graph-learner.js';
import type { Tensor } from '../tensor.js';
import { FEATURES_T, prepareFixedFeatures, readTransposedFeatures } from './fixed-batch.js';
import {
  buildDenseHead,
  initDenseParams,
  withParams,
  type DenseHeadSpec,
  type Standardizer,
} from './dense.js';

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

export class HeadModel extends GraphModel {
  private constructor(
    readonly options: HeadModelOptions,
    protected readonly graph: TrainableGraph,
    private readonly exportGraph: Graph,
    private readonly fixedFeeds: Record<string, Tensor> = {},
  ) {
    super();
  }

  static async create(options: HeadModelOptions): Promise<HeadModel> {
    const { spec, inputDim, numClasses } = options;
    const common = { inputDim, numClasses, standardize: options.standardize };
    const fixed = options.fixedBatch;
    // A fixed batch is standardised up front, so its training graph starts at the standardised features.
    const trainHead = buildDenseHead(spec, {
      ...common,
      standardize: fixed ? undefined : options.standardize,
      mode: 'train',
    });
    const b = new GraphBuilder(trainHead.graph);
    const labels = b.input(LABELS, 'int64', ['batch']);
    const loss = addSoftmaxCrossEntropy(b, trainHead.output, labels, numClasses, options.loss);
    b.output(loss, 'float32', []);
    const training = buildTrainingGraph(createModel(b.graph), { params: trainHead.paramNames, loss });
    const transposed = fixed ? readTransposedFeatures(training.model.graph, trainHead.input) : false;

    const exportHead = buildDenseHead(spec, { ...common, mode: 'export' });
    const graph = await TrainableGraph.create({
      training,
      inference: createModel(paramsAsInputs(exportHead.graph, exportHead.paramNames)),
      probabilities: exportHead.output,
      params: initDenseParams(spec, inputDim, numClasses, options.uniform),
      inputs: [exportHead.input],
      session: options.session,
      noiseSeed: options.seed,
    });
    const fixedFeeds = fixed
      ? await batchFeeds(fixed, inputDim, options.standardize, transposed, options.session)
      : undefined;
    return new HeadModel(options, graph, exportHead.graph, fixedFeeds);
  }

  get params(): Map<string, Float32Array> {
    return this.graph.params;
  }

  /** Fresh random parameters (same shapes), e.g. between cross-validation folds. */
  reset(uniform: () => number): void {
    const { spec, inputDim, numClasses } = this.options;
    for (const [name, value] of initDenseParams(spec, inputDim, numClasses, uniform))
      this.params.set(name, value);
  }

  /** Loss and gradients on the fixed batch (requires `fixedBatch`). */
  fullBatchGradients(): Promise<Gradients> {
    return this.graph.gradientsFor(this.fixedFeeds);
  }

  /** The export head (features → probabilities) with the current parameters baked in. */
  exportHead(): Graph {
    return withParams(this.exportGraph, this.params);
  }
}

/** The fixed batch as feeds: features standardised (and transposed) once, labels as int64. */
async function batchFeeds(
  batch: { features: Float32Array; labels: Int32Array },
  dim: number,
  standardize: Standardizer | undefined,
  transposed: boolean,
  session: SessionOptions | undefined,
): Promise<Record<string, Tensor>> {
  const n = batch.labels.length;
  const { x, xT } = await prepareFixedFeatures(batch.features, dim, standardize, transposed, session);
  return {
    features: { dtype: 'float32', shape: [n, dim], data: x },
    ...(xT ? { [FEATURES_T]: { dtype: 'float32', shape: [dim, n], data: xT } } : {}),
    [LABELS]: TrainableGraph.labels(batch.labels),
  };
}
