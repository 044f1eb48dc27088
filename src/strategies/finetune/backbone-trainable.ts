/**
 * BackboneTrainable: a pre-trained backbone's suffix (from a cut tensor, or from the input) + pooling + dense head
 * as a TrainableModel, run by a TrainableGraph (forward + loss + gradients by graft's autodiff); frozen weights
 * stay initializers. `params` holds the trainable weights, the head and, in 'train' BN mode, the BN running
 * statistics as buffers (updated from the training graph's extra outputs, never by the optimizer, and saved in
 * checkpoints with everything else). Changing what is trainable (`setUnfreeze`) rebuilds both sessions.
 */
import type { CrossEntropyOptions } from '../../autodiff/index.js';
import { buildDenseHead, initDenseParams, withParams, type DenseHeadSpec } from '../../heads/dense.js';
import { cloneModel, type Graph, type Model } from '../../onnx/ir.js';
import { extract } from '../../onnx/surgery.js';
import { pooledDim } from '../../features/feature-id.js';
import { GraphLearner } from '../../learner/graph-learner.js';
import { TrainableGraph } from '../../learner/trainable-graph.js';
import type { SessionOptions } from '../../runtime/session.js';
import type { Batch } from '../../train/types.js';
import { mulberry32 } from '../../data/random.js';
import { resolveCut, trainableInitializers, type ResolvedCut, type UnfreezeSpec } from './cut.js';
import { heInit, probeShapes, withWeights } from './model-util.js';
import {
  buildSuffixGraphs,
  PROBABILITIES,
  TEACHER_LOGITS,
  type BnMode,
  type SuffixSpec,
  type TrainingGraphs,
} from './suffix-graph.js';

export interface BackboneTrainableOptions {
  backbone: Model;
  /** The backbone's image (or token) input. */
  inputName: string;
  /** Per-example shape of that input (no batch axis), e.g. [224, 224, 3]. */
  inputShape: readonly number[];
  /** Tensor the head reads (pooled when [N,C,H,W]). */
  featureTensor: string;
  /** Pooling grid of a spatial feature tensor (features/feature-id.ts): 1 (default) pools globally. */
  featureGrid?: number;
  numClasses: number;
  head?: DenseHeadSpec;
  unfreeze: UnfreezeSpec;
  bnMode?: BnMode;
  bnMomentum?: number;
  loss?: CrossEntropyOptions;
  /** Distillation loss instead of cross-entropy: batches then carry the teacher's logits (TEACHER_LOGITS). */
  distill?: SuffixSpec['distill'];
  /** Seeds the head's initialisation (and dropout, and the backbone's in 'scratch' init). */
  seed: number;
  /** 'pretrained' (default) or 'scratch': same architecture, random init (see heInit). */
  init?: 'pretrained' | 'scratch';
  session?: SessionOptions;
}

interface Built {
  cut: ResolvedCut;
  graphs: TrainingGraphs;
  trainable: string[];
}

/** `params`: trainable weights + head (+ BN buffers in 'train' mode); `values`: every backbone weight that changed. */
export class BackboneTrainable extends GraphLearner {
  private built!: Built;

  private constructor(
    readonly options: Required<Omit<BackboneTrainableOptions, 'loss' | 'session' | 'distill'>> &
      Pick<BackboneTrainableOptions, 'loss' | 'session' | 'distill'>,
  ) {
    super();
  }

  static async create(options: BackboneTrainableOptions): Promise<BackboneTrainable> {
    const m = new BackboneTrainable({
      head: { kind: 'linear' },
      bnMode: 'frozen',
      bnMomentum: 0.9,
      init: 'pretrained',
      featureGrid: 1,
      ...options,
    });
    if (m.options.init === 'scratch')
      for (const [k, v] of heInit(options.backbone, options.seed)) m.values.set(k, v);
    const head = initDenseParams(
      m.options.head,
      await m.featureDim(),
      options.numClasses,
      mulberry32(options.seed),
    );
    for (const [k, v] of head) m.values.set(`head/${k}`, v);
    await m.setUnfreeze(options.unfreeze);
    return m;
  }

  private featureShapeCache: number[] | undefined;
  private async featureDim(): Promise<number> {
    const o = this.options;
    this.featureShapeCache ??= (
      await probeShapes(o.backbone, o.inputName, o.inputShape, [o.featureTensor])
    )[0]!;
    return pooledDim(this.featureShapeCache, o.featureGrid);
  }

  /** The tensor the trainable part starts from; feed it (per example: `cutShape`) as the batch input. */
  get inputName(): string {
    return this.built.graphs.input;
  }
  get cut(): ResolvedCut {
    return this.built.cut;
  }
  get trainableNames(): readonly string[] {
    return this.built.trainable;
  }
  get training(): Model {
    return this.built.graphs.training;
  }

  /** The backbone with every changed weight written into its initializers. */
  currentBackbone(): Model {
    return withWeights(this.options.backbone, this.values);
  }

  /** The frozen prefix (input → cut), current weights, or undefined when training from the input. */
  prefixModel(): Model | undefined {
    if (this.built.cut.fromInput) return undefined;
    const bb = this.currentBackbone();
    return { ...bb, graph: extractPrefix(bb.graph, this.options.inputName, this.built.cut.cut) };
  }

  /**
   * Changes what is trainable: resolves the cut, rebuilds the training and inference graphs and sessions, and
   * refills `params` (values carry over by name). Optional `filter` narrows the suffix's weights.
   */
  async setUnfreeze(spec: UnfreezeSpec, filter?: (name: string) => boolean): Promise<void> {
    const o = this.options;
    const cut = resolveCut(o.backbone.graph, o.inputName, o.featureTensor, spec);
    const backbone = this.currentBackbone();
    const [cutShape, featureShape] = cut.fromInput
      ? [[...o.inputShape], await this.featureShapeOnce()]
      : await probeShapes(backbone, o.inputName, o.inputShape, [cut.cut, o.featureTensor]);
    const spec0 = {
      backbone,
      cut: cut.cut,
      cutShape: cutShape!,
      featureTensor: o.featureTensor,
      featureShape: featureShape!,
      featureGrid: o.featureGrid,
      numClasses: o.numClasses,
      head: o.head,
      bnMode: o.bnMode,
      bnMomentum: o.bnMomentum,
      loss: o.loss,
      distill: o.distill,
    };
    const suffixWeights =
      cut.cut === o.featureTensor ? [] : suffixInitializers(backbone, cut.cut, o.featureTensor);
    const trainable = suffixWeights.filter((n) => !filter || filter(n));
    const graphs = buildSuffixGraphs(spec0, trainable);
    const buffers = o.bnMode === 'train' ? graphs.bnStats.flatMap((s) => [s.mean, s.variance]) : [];
    const graph = await TrainableGraph.create({
      training: { model: graphs.training, loss: graphs.loss, gradients: graphs.gradients },
      inference: graphs.inferenceWithInputs,
      probabilities: PROBABILITIES,
      params: this.params,
      inputs: [graphs.input],
      ...(o.distill ? { trainingInputs: [TEACHER_LOGITS] } : {}),
      buffers: runningStats(graphs),
      session: o.session,
      trainingSession: trainingSessionOptions(o.session, graphs.training, trainable),
      noiseSeed: o.seed,
    });
    this.built = { cut, graphs, trainable };
    await this.install(graph, [...trainable, ...graphs.headParams, ...buffers], (name) =>
      Float32Array.from(backbone.graph.initializers.get(name)!.data as Float32Array),
    );
  }

  private async featureShapeOnce(): Promise<number[]> {
    await this.featureDim();
    return this.featureShapeCache!;
  }

  /**
   * "Precise BN": sets every BatchNormalization's running statistics to its batch statistics under the current
   * weights, averaged over `batches` (weighted by rows) — for models trained with BN in 'train' mode, whose
   * momentum-averaged statistics lag the weights early in training (from scratch, a few dozen steps leave them
   * so far off that inference collapses to one class). Batch statistics come from the training graph's updated
   * running outputs with the running inputs fed as zeros: (1 - momentum) · batch statistic. Returns the number
   * of layers set (0 unless bnMode is 'train').
   */
  async recalibrateBatchNorm(batches: AsyncIterable<Batch> | Iterable<Batch>): Promise<number> {
    const pairs = runningStats(this.built.graphs);
    if (pairs.length === 0) return 0;
    const keep = 1 - this.options.bnMomentum;
    const sums = pairs.map(([buffer]) => new Float64Array(this.params.get(buffer)!.length));
    const outputs = pairs.map(([, output]) => output);
    let rows = 0;
    for await (const batch of batches) {
      const zeros = new Map(pairs.map(([buffer], i) => [buffer, new Float32Array(sums[i]!.length)]));
      const out = await this.graph.runTraining(batch, outputs, zeros);
      const n = batch.labels.length;
      pairs.forEach(([, output], i) => {
        const sum = sums[i]!;
        const got = out[output]!.data as Float32Array;
        for (let c = 0; c < sum.length; c++) sum[c]! += (n * got[c]!) / keep;
      });
      rows += n;
    }
    if (rows === 0) return 0;
    pairs.forEach(([buffer], i) => {
      const target = this.params.get(buffer)!;
      const sum = sums[i]!;
      for (let c = 0; c < target.length; c++) target[c] = sum[c]! / rows;
    });
    return pairs.length / 2;
  }

  /** The head (features → probabilities) with trained parameters, for export. */
  exportHead(): Graph {
    const o = this.options;
    const head = buildDenseHead(o.head, {
      inputDim: pooledDim(this.featureShapeCache!, o.featureGrid),
      numClasses: o.numClasses,
      mode: 'export',
    });
    const params = new Map(head.paramNames.map((p) => [p, this.values.get(`head/${p}`)!]));
    return withParams(head.graph, params);
  }
}

/** (running-statistic input, its updated output) for every BatchNormalization trained in 'train' mode. */
function runningStats(graphs: TrainingGraphs): [string, string][] {
  return graphs.bnStats.flatMap((s): [string, string][] =>
    s.meanOut && s.varianceOut
      ? [
          [s.mean, s.meanOut],
          [s.variance, s.varianceOut],
        ]
      : [],
  );
}

/** Below this many head weights (and no backbone weights) a training step is too small to split over threads. */
const SMALL_HEAD = 1 << 18;

/**
 * The training session's options: threads block instead of spinning between parallel sections (PyTorch's
 * peer runs with OMP_WAIT_POLICY=PASSIVE too), and a head-only graph of a small head runs on one intra-op
 * thread — its ops are too small to amortise a thread hand-off (measured ~2× faster per step); `threads` is an
 * upper bound. An explicit `spinWait` wins.
 */
function trainingSessionOptions(
  session: SessionOptions | undefined,
  training: Model,
  trainable: readonly string[],
): SessionOptions {
  const headOnly = trainable.length === 0;
  const fed = training.graph.inputs.reduce(
    (n, v) => n + (v.shape ?? []).reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1),
    0,
  );
  const small = headOnly && fed < SMALL_HEAD;
  return { spinWait: false, ...session, ...(small ? { threads: 1 } : {}) };
}

function suffixInitializers(backbone: Model, cut: string, feature: string): string[] {
  const g = cloneModel(backbone).graph;
  const sub = extractPrefix(g, cut, feature);
  return trainableInitializers(sub);
}

function extractPrefix(g: Graph, from: string, to: string): Graph {
  return extract(g, [from], [to]);
}
