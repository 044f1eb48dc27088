/**
 * BERT-style sequence classification as a TrainableModel: builds encoder + head (+ loss + gradients) graphs and
 * runs them through a TrainableGraph. Batches carry
 * input_ids / attention_mask / token_type_ids padded per batch, so both graphs keep symbolic batch and
 * sequence dims.
 */
import { addSoftmaxCrossEntropy, buildTrainingGraph } from '../../autodiff/index.js';
import { mulberry32, deriveSeed } from '../../data/random.js';
import { GraftError } from '../../errors.js';
import { GraphBuilder } from '../../onnx/builder.js';
import { type Model } from '../../onnx/ir.js';
import { initDenseParams } from '../../heads/dense.js';
import { LABELS, TrainableGraph, type Gradients } from '../../learner/trainable-graph.js';
import type { SessionOptions } from '../../runtime/session.js';
import { paramsAsInputs } from '../../strategies/head-model.js';
import { scratchInit } from '../../strategies/finetune/model-util.js';
import type { Tensor } from '../../tensor.js';
import type { Batch, TrainableModel, Uniform } from '../../train/types.js';
import {
  buildClassifierGraph,
  hiddenSizeOf,
  HEAD_PREFIX,
  LOGITS,
  PROBABILITIES,
  raiseOpsetForTraining,
  type PoolerKind,
} from './graph.js';
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
}

const DATA_INPUTS = ['input_ids', 'attention_mask', 'token_type_ids'];

export class SequenceClassifier implements TrainableModel {
  private constructor(
    private readonly encoder: Model,
    private readonly graph: TrainableGraph,
    /** Names of the encoder weights that train. */
    readonly trainableEncoder: readonly string[],
    /** The tensor the head reads, an output of the inference graph. */
    private readonly pooled: string,
  ) {}

  static async create(encoder: Model, o: SequenceClassifierOptions): Promise<SequenceClassifier> {
    if (!Number.isInteger(o.numClasses) || o.numClasses < 2)
      throw new GraftError('BAD_INPUT', `a classifier needs at least 2 classes, got ${o.numClasses}`);
    const dropout = o.dropout ?? 0.1;
    if (!(dropout >= 0 && dropout < 1))
      throw new GraftError('BAD_OPTION', `dropout must be in [0, 1), got ${dropout}`);
    const hiddenOutput = o.hiddenOutput ?? 'last_hidden_state';
    const seed = o.seed ?? 0;
    const raised = raiseOpsetForTraining(encoder);
    const graphOptions = {
      numClasses: o.numClasses,
      pooler: o.pooler ?? 'auto',
      dropout,
      hiddenOutput,
      hidden: hiddenSizeOf(encoder, hiddenOutput),
    };
    const enc = trainableEncoderParams(encoder, o.unfreeze ?? 'all');
    const trainGraph = buildClassifierGraph(raised, graphOptions, 'train');
    const b = new GraphBuilder(trainGraph.model.graph);
    const labels = b.input(LABELS, 'int64', ['batch']);
    const loss = addSoftmaxCrossEntropy(b, LOGITS, labels, o.numClasses, {
      labelSmoothing: o.labelSmoothing ?? 0,
    });
    trainGraph.model.graph.outputs = [{ name: loss, dtype: 'float32', shape: [] }];
    const names = [...enc, ...trainGraph.headParams.keys()];
    const training = buildTrainingGraph(trainGraph.model, { params: names, loss });

    const inferGraph = buildClassifierGraph(encoder, graphOptions, 'infer');
    const params = new Map<string, Float32Array>();
    for (const n of enc) params.set(n, (encoder.graph.initializers.get(n)!.data as Float32Array).slice());
    if (o.init === 'scratch') for (const [n, v] of scratchInit(encoder, seed, enc)) params.set(n, v);
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
      params.set(n, given ? Float32Array.from(given) : v);
    }
    const inferenceGraph = paramsAsInputs(inferGraph.model.graph, names);
    if (!inferenceGraph.outputs.some((v) => v.name === inferGraph.pooled))
      inferenceGraph.outputs = [
        ...inferenceGraph.outputs,
        { name: inferGraph.pooled, dtype: 'float32', shape: ['batch', graphOptions.hidden] },
      ];
    const graph = await TrainableGraph.create({
      training,
      inference: { ...raiseOpsetForTraining(inferGraph.model), graph: inferenceGraph },
      probabilities: PROBABILITIES,
      params,
      inputs: encoder.graph.inputs.map((v) => v.name).filter((n) => DATA_INPUTS.includes(n)),
      session: o.session,
      noiseSeed: deriveSeed(seed, 'dropout'),
    });
    return new SequenceClassifier(inferGraph.model, graph, enc, inferGraph.pooled);
  }

  get params(): Map<string, Float32Array> {
    return this.graph.params;
  }

  /** The encoder inputs the graphs take (input_ids, attention_mask and, for BERT, token_type_ids). */
  get inputs(): readonly string[] {
    return this.graph.inputs;
  }

  computeGradients(batch: Batch, uniform?: Uniform): Promise<Gradients> {
    return this.graph.computeGradients(batch, uniform);
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

  predictProbs(inputs: Record<string, Tensor>): Promise<Float32Array> {
    return this.graph.predictProbs(inputs);
  }

  shapeOf(name: string): readonly number[] | undefined {
    return this.graph.shapeOf(name);
  }

  /** Encoder + head with the current weights baked in, at the encoder's own opset; outputs probabilities, logits. */
  exportModel(): Model {
    const m = this.encoder;
    const initializers = new Map(m.graph.initializers);
    for (const [name, data] of this.params)
      initializers.set(name, { dtype: 'float32', shape: this.graph.shapeOf(name)!, data: data.slice() });
    return { ...m, graph: { ...m.graph, initializers }, producerName: 'graft', metadata: { ...m.metadata } };
  }

  /** The inference graph with weights as inputs (for inspection and tests). */
  get inferenceModel(): Model {
    return this.graph.inferenceModel;
  }

  release(): Promise<void> {
    return this.graph.release();
  }
}
