/**
 * BERT-style sequence classification as a TrainableModel: builds encoder + head (+ loss + gradients) graphs and
 * runs them through a TrainableGraph. Batches carry
 * input_ids / attention_mask / token_type_ids padded per batch, so both graphs keep symbolic batch and
 * sequence dims.
 */
import {
  addDistillationObjective,
  addSoftmaxCrossEntropy,
  buildTrainingGraph,
} from '../../autodiff/index.js';
import { mulberry32, deriveSeed } from '../../data/random.js';
import { GraftError } from '../../errors.js';
import { GraphBuilder } from '../../onnx/builder.js';
import { type Model } from '../../onnx/ir.js';
import { initDenseParams } from '../../heads/dense.js';
import { GraphLearner } from '../../learner/graph-learner.js';
import { LABELS, TrainableGraph } from '../../learner/trainable-graph.js';
import type { SessionOptions } from '../../runtime/session.js';
import { paramsAsInputs } from '../../heads/head-model.js';
import { scratchInit, withWeights } from '../../strategies/finetune/model-util.js';
import { TEACHER_LOGITS } from '../../strategies/finetune/suffix-graph.js';
import type { Tensor } from '../../tensor.js';
import {
  buildClassifierGraph,
  hiddenSizeOf,
  HEAD_PREFIX,
  LOGITS,
  PROBABILITIES,
  raiseOpsetForTraining,
  type ClassifierGraphOptions,
  type PoolerKind,
} from './graph.js';
import { addHiddenStateLoss } from './hidden-loss.js';
import { trainableEncoderParams, type Unfreeze } from './params.js';

export interface SequenceClassifierOptions {
  numClasses: number;
  /** Default 'all'. */
  unfreeze?: Unfreeze;
  /** Default 'auto'. */
  pooler?: PoolerKind;
  /** Dropout before the head (HF's hidden_dropout_prob). Default 0.1. */
  dropout?: number;
  /** Seeds the head's initialisation and the dropout masks. Default 0. */
  seed?: number;
  labelSmoothing?: number;
  hiddenOutput?: string;
  session?: SessionOptions;
  /** Initial head values by name (e.g. 'head/dense0/weight'); others are drawn as heads/dense.ts does. */
  initialParams?: ReadonlyMap<string, Float32Array>;
  /** 'pretrained' (default) or 'scratch': the trainable encoder weights are drawn at random (scratchInit). */
  init?: 'pretrained' | 'scratch';
  /**
   * Distillation loss instead of cross-entropy: batches then carry the teacher's logits (TEACHER_LOGITS). With
   * `hidden`, `weight` × the masked MSE between the encoder tensors `tensors` (hidden states [batch, seq, H]) and
   * the teacher's at the matching layers is added; batches then carry those as `teacherHiddenInput(k)`.
   */
  distill?: {
    temperature: number;
    alpha: number;
    hidden?: { weight: number; tensors: readonly string[] };
  };
}

/** The training input holding the teacher's hidden states matched to the k-th `distill.hidden.tensors`. */
export const teacherHiddenInput = (k: number): string => `teacher_hidden_${k}`;

const DATA_INPUTS = ['input_ids', 'attention_mask', 'token_type_ids'];

/** The attention mask input that tells real tokens from padding (hidden-state matching averages over the real ones). */
function hiddenMask(m: Model): string {
  if (!m.graph.inputs.some((v) => v.name === 'attention_mask'))
    throw new GraftError('BAD_OPTION', 'hidden-state matching needs an encoder with an attention_mask input');
  return 'attention_mask';
}

interface Built {
  unfreeze: string;
  /** Names of the encoder weights that train. */
  encoder: string[];
}

/** `params`: the encoder weights that train now and the head; `values`: every one that trained so far. */
export class SequenceClassifier extends GraphLearner {
  private built: Built | undefined;

  private constructor(
    /** The encoder as read (its weights are the pre-trained ones). */
    private readonly source: Model,
    /** Encoder + head as exported (head weights baked in by exportModel). */
    private readonly encoder: Model,
    private readonly graphOptions: ClassifierGraphOptions,
    private readonly o: SequenceClassifierOptions,
    /** The tensor the head reads, an output of the inference graph. */
    private readonly pooled: string,
  ) {
    super();
  }

  static async create(encoder: Model, o: SequenceClassifierOptions): Promise<SequenceClassifier> {
    if (!Number.isInteger(o.numClasses) || o.numClasses < 2)
      throw new GraftError('BAD_INPUT', `a classifier needs at least 2 classes, got ${o.numClasses}`);
    const dropout = o.dropout ?? 0.1;
    if (!(dropout >= 0 && dropout < 1))
      throw new GraftError('BAD_OPTION', `dropout must be in [0, 1), got ${dropout}`);
    const hiddenOutput = o.hiddenOutput ?? 'last_hidden_state';
    const seed = o.seed ?? 0;
    const graphOptions: ClassifierGraphOptions = {
      numClasses: o.numClasses,
      pooler: o.pooler ?? 'auto',
      dropout,
      hiddenOutput,
      hidden: hiddenSizeOf(encoder, hiddenOutput),
    };
    // From scratch, the drawn weights take the pre-trained ones' place everywhere, trained or not.
    const source =
      o.init === 'scratch'
        ? withWeights(encoder, scratchInit(encoder, seed, trainableEncoderParams(encoder, 'all')))
        : encoder;
    const inferGraph = buildClassifierGraph(source, graphOptions, 'infer');
    const values = new Map<string, Float32Array>();
    const init = initDenseParams(
      inferGraph.head,
      graphOptions.hidden,
      o.numClasses,
      mulberry32(deriveSeed(seed, 'head')),
    );
    for (const [name, v] of init) {
      const n = `${HEAD_PREFIX}${name}`;
      const given = o.initialParams?.get(n);
      if (given && given.length !== v.length)
        throw new GraftError(
          'SHAPE_MISMATCH',
          `initial value of '${n}' has ${given.length} values, needs ${v.length}`,
        );
      values.set(n, given ? Float32Array.from(given) : v);
    }
    const model = new SequenceClassifier(source, inferGraph.model, graphOptions, o, inferGraph.pooled);
    for (const [n, v] of values) model.values.set(n, v);
    await model.setUnfreeze(o.unfreeze ?? 'all');
    return model;
  }

  /**
   * Changes which encoder weights train ('all', 'none' or 'last:N'): rebuilds the training and inference graphs
   * and sessions, and refills `params` (values carry over by name). Asking for the current set does nothing.
   */
  async setUnfreeze(unfreeze: string): Promise<void> {
    if (this.built?.unfreeze === unfreeze) return;
    const enc = trainableEncoderParams(this.source, unfreeze as Unfreeze);
    const graph = await this.buildGraph(enc);
    this.built = { unfreeze, encoder: enc };
    const head = [...this.values.keys()].filter((n) => n.startsWith(HEAD_PREFIX));
    await this.install(graph, [...enc, ...head], (n) =>
      (this.source.graph.initializers.get(n)!.data as Float32Array).slice(),
    );
  }

  private async buildGraph(enc: readonly string[]): Promise<TrainableGraph> {
    const o = this.o;
    const raised = raiseOpsetForTraining(this.source);
    const trainGraph = buildClassifierGraph(raised, this.graphOptions, 'train');
    const b = new GraphBuilder(trainGraph.model.graph);
    const labels = b.input(LABELS, 'int64', ['batch']);
    const objective = o.distill
      ? addDistillationObjective(
          b,
          LOGITS,
          b.input(TEACHER_LOGITS, 'float32', ['batch', o.numClasses]),
          labels,
          { ...o.distill, numClasses: o.numClasses },
        ).loss
      : addSoftmaxCrossEntropy(b, LOGITS, labels, o.numClasses, {
          labelSmoothing: o.labelSmoothing ?? 0,
        });
    const hidden = o.distill?.hidden;
    const hiddenInputs = (hidden?.tensors ?? []).map((_, k) => teacherHiddenInput(k));
    const loss = hidden
      ? b.op('Add', [
          objective,
          b.op('Mul', [
            addHiddenStateLoss(
              b,
              hidden.tensors.map((student, k) => ({
                student,
                teacher: b.input(hiddenInputs[k]!, 'float32', [
                  'batch',
                  'sequence',
                  this.graphOptions.hidden,
                ]),
              })),
              hiddenMask(trainGraph.model),
              this.graphOptions.hidden,
            ),
            b.constant('hs_weight', { dtype: 'float32', shape: [], data: Float32Array.of(hidden.weight) }),
          ]),
        ])
      : objective;
    trainGraph.model.graph.outputs = [{ name: loss, dtype: 'float32', shape: [] }];
    const names = [...enc, ...trainGraph.headParams.keys()];
    const training = buildTrainingGraph(trainGraph.model, { params: names, loss });
    const inferenceGraph = paramsAsInputs(this.encoder.graph, names);
    if (!inferenceGraph.outputs.some((v) => v.name === this.pooled))
      inferenceGraph.outputs = [
        ...inferenceGraph.outputs,
        { name: this.pooled, dtype: 'float32', shape: ['batch', this.graphOptions.hidden] },
      ];
    return TrainableGraph.create({
      training,
      inference: { ...raiseOpsetForTraining(this.encoder), graph: inferenceGraph },
      probabilities: PROBABILITIES,
      params: this.params,
      inputs: this.source.graph.inputs.map((v) => v.name).filter((n) => DATA_INPUTS.includes(n)),
      ...(o.distill ? { trainingInputs: [TEACHER_LOGITS, ...hiddenInputs] } : {}),
      session: o.session,
      noiseSeed: deriveSeed(o.seed ?? 0, 'dropout'),
    });
  }

  /** Names of the encoder weights that train now. */
  get trainableEncoder(): readonly string[] {
    return this.built!.encoder;
  }

  /** Every encoder weight's starting value back (pre-trained, or drawn for scratch), keeping the head. */
  restorePretrainedEncoder(): void {
    for (const [n, v] of this.values)
      if (!n.startsWith(HEAD_PREFIX)) v.set(this.source.graph.initializers.get(n)!.data as Float32Array);
  }

  /** The encoder inputs the graphs take (input_ids, attention_mask and, for BERT, token_type_ids). */
  get inputs(): readonly string[] {
    return this.graph.inputs;
  }

  /** Logits and probabilities, row-major [batch × classes]. */
  async forward(
    inputs: Record<string, Tensor>,
  ): Promise<{ logits: Float32Array; probabilities: Float32Array }> {
    const out = await this.graph.run(inputs, [LOGITS, PROBABILITIES]);
    return {
      logits: out[LOGITS]!.data as Float32Array,
      probabilities: out[PROBABILITIES]!.data as Float32Array,
    };
  }

  /** The pooled states the head reads, row-major [batch × hidden]: the features a linear probe fits. */
  async features(inputs: Record<string, Tensor>): Promise<Float32Array> {
    const out = await this.graph.run(inputs, [this.pooled]);
    return out[this.pooled]!.data as Float32Array;
  }

  /** Encoder + head with the current weights baked in, at the encoder's own opset; outputs probabilities, logits. */
  exportModel(): Model {
    const m = this.encoder;
    const initializers = new Map(m.graph.initializers);
    for (const [name, data] of this.values) {
      const shape = m.graph.initializers.get(name)?.shape ?? this.graph.shapeOf(name);
      initializers.set(name, { dtype: 'float32', shape: [...shape!], data: data.slice() });
    }
    return { ...m, graph: { ...m.graph, initializers }, producerName: 'graft', metadata: { ...m.metadata } };
  }

  /** The inference graph with weights as inputs (for inspection and tests). */
  get inferenceModel(): Model {
    return this.graph.inferenceModel;
  }
}
