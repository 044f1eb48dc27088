/**
 * Post-training quantization of an ONNX model, end to end: prepare (fold BN, constants, pads), then either
 *   static   calibrate on streamed example batches and insert QDQ (int8 weights per channel, int32 biases), or
 *   dynamic  MatMul weights int8, activations quantized at run time (ONNX Runtime's advice for transformers),
 * and — given an accuracy measure — guard the accuracy: while int8 loses more than `maxDrop` points, the nodes
 * adding the most output error are left in float (1, 2, 4, … of them), each with the error that put it there.
 */
import { GraftError } from '../errors.js';
import { getAttr, type Graph, type Model, type Node } from '../onnx/ir.js';
import type { SessionOptions } from '../runtime/session.js';
import { channelMeanAccumulator, correctableConvs, correctBiases } from './bias-correction.js';
import { calibrate, type CalibrationMethod, type FeedBatches } from './calibrate.js';
import { prepareForQuantization, type PrepareReport } from './prepare.js';
import { dynamicNodes, insertDynamic } from './dynamic.js';
import { insertQdq, quantizableNodes, tensorsToCalibrate } from './qdq.js';
import type { QuantType } from './params.js';
import { activationErrors, rankDynamicNodes, rankNodes, type NodeError } from './sensitivity.js';

export type QuantizeMode = 'static' | 'dynamic';
export const QUANTIZE_MODES: readonly QuantizeMode[] = ['static', 'dynamic'];

export interface QuantizeOptions {
  /** static: calibrated QDQ (every quantizable op); dynamic: MatMul weights only, activations at run time. */
  mode: QuantizeMode;
  method: CalibrationMethod;
  /** Percentile for method 'percentile'. */
  percentile: number;
  perChannel: boolean;
  /**
   * static (default on): fold each quantized Conv's mean weight-rounding error into its bias (bias-correction.ts;
   * Nagel et al. 2019), E[x] measured on the calibration batches. Dynamic mode has no Conv to correct.
   */
  biasCorrection: boolean;
  /** Activations as uint8 (default: what ONNX Runtime's x86 kernels run) or int8. */
  activationType: QuantType;
  /** Node names (of the prepared graph) left in float. */
  exclude: string[];
  /**
   * static (default on): the image stem — a Conv that reads the graph's input with 4 or fewer channels — stays in
   * float: its integer dot products are only 3·k·k long, so ONNX Runtime's int8 kernel is slower than the float one
   * (the slowest int8 node of MobileNetV2; 5% of int8 throughput measured), and the first layer is where
   * quantization error starts.
   */
  floatStem: boolean;
  /** Largest accuracy loss accepted, in percentage points (used when `evaluate` is given). */
  maxDrop: number;
  /** Accuracy in [0, 1] of a model on held-out data; enables the accuracy guard. */
  evaluate?: (model: Model) => Promise<number>;
  /** Most nodes the guard may leave in float (default: a quarter of the quantized ones). */
  maxExcluded?: number;
  session?: SessionOptions;
  onProgress?: (message: string) => void;
}

export const QUANTIZE_DEFAULTS: Omit<QuantizeOptions, 'evaluate' | 'session' | 'onProgress'> = {
  mode: 'static',
  method: 'minmax',
  percentile: 99.999,
  perChannel: true,
  biasCorrection: true,
  activationType: 'uint8',
  exclude: [],
  floatStem: true,
  maxDrop: 1,
};

export interface ExcludedNode {
  node: string;
  opType: string;
  reason: string;
}

export interface QuantizeReport {
  mode: QuantizeMode;
  method: CalibrationMethod;
  perChannel: boolean;
  biasCorrection: boolean;
  activationType: QuantType;
  prepare: PrepareReport;
  quantizedNodes: number;
  quantizableNodes: number;
  removedActivations: string[];
  excluded: ExcludedNode[];
  /** Held-out accuracy (fractions) of the float and int8 models, when an accuracy measure was given. */
  accuracy?: { fp32: number; int8: number; drop: number; withinMaxDrop: boolean };
}

export interface QuantizeResult {
  model: Model;
  report: QuantizeReport;
}

export function resolveQuantizeOptions(options: Partial<QuantizeOptions> = {}): QuantizeOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const o = { ...QUANTIZE_DEFAULTS, ...defined } as QuantizeOptions;
  if (!(o.maxDrop >= 0))
    throw new GraftError('BAD_OPTION', `--max-drop must be ≥ 0 points, got ${o.maxDrop}`);
  return o;
}

/** Convs that read a graph input of at most 4 channels (an image) directly, ungrouped. */
export function imageStems(g: Graph): Node[] {
  const inputs = new Set(g.inputs.map((v) => v.name).filter((n) => !g.initializers.has(n)));
  return g.nodes.filter((n) => {
    if (n.opType !== 'Conv' || n.domain !== '' || !inputs.has(n.inputs[0]!)) return false;
    const w = g.initializers.get(n.inputs[1]!);
    return (
      w !== undefined && w.shape.length === 4 && w.shape[1]! <= 4 && (getAttr(n, 'group', 'int') ?? 1) === 1
    );
  });
}

export async function quantizeModel(
  model: Model,
  batches: FeedBatches,
  options: Partial<QuantizeOptions> = {},
): Promise<QuantizeResult> {
  const o = resolveQuantizeOptions(options);
  if (o.mode === 'dynamic' && options.biasCorrection === true)
    throw new GraftError(
      'BAD_OPTION',
      'bias correction corrects quantized Convs (static mode); dynamic quantization has none: drop it or use --mode static',
    );
  if (o.mode === 'dynamic' && options.floatStem === false)
    throw new GraftError(
      'BAD_OPTION',
      'quantizing the image stem applies to static mode; dynamic quantization leaves every Conv in float: drop --no-float-stem or use --mode static',
    );
  const say = o.onProgress ?? (() => {});
  const { model: prepared, report: prep } = await prepareForQuantization(model);
  const known = new Set(prepared.graph.nodes.map((n) => n.name));
  const unknown = o.exclude.filter((n) => !known.has(n));
  if (unknown.length > 0)
    throw new GraftError(
      'BAD_OPTION',
      `--exclude names no node of the prepared graph: ${unknown.join(', ')} (see \`graft inspect\`; BatchNormalization nodes are folded into their Conv)`,
    );
  const excluded: ExcludedNode[] = o.exclude.map((node) => ({
    node,
    opType: prepared.graph.nodes.find((n) => n.name === node)!.opType,
    reason: 'excluded by --exclude',
  }));
  if (o.mode === 'static' && o.floatStem)
    for (const stem of imageStems(prepared.graph))
      if (!o.exclude.includes(stem.name))
        excluded.push({
          node: stem.name,
          opType: stem.opType,
          reason: 'the image stem (≤ 4 input channels): faster and more accurate in float',
        });
  const q = await quantizerFor(prepared, batches, o);
  const build = (): Built => q.build(new Set(excluded.map((e) => e.node)));
  let built = build();
  const report = (b: Built, accuracy?: QuantizeReport['accuracy']): QuantizeResult => ({
    model: b.model,
    report: {
      mode: o.mode,
      method: o.method,
      perChannel: o.perChannel,
      biasCorrection: o.mode === 'static' && o.biasCorrection,
      activationType: o.mode === 'dynamic' ? 'uint8' : o.activationType,
      prepare: prep,
      quantizedNodes: b.quantizedNodes.length,
      quantizableNodes: q.candidates,
      removedActivations: b.removedActivations,
      excluded,
      ...(accuracy ? { accuracy } : {}),
    },
  });
  if (!o.evaluate) return report(built);

  say('evaluating the float model');
  const fp32 = await o.evaluate(prepared);
  const measure = async (b: Built): Promise<QuantizeReport['accuracy']> => {
    const int8 = await o.evaluate!(b.model);
    const drop = (fp32 - int8) * 100;
    return { fp32, int8, drop, withinMaxDrop: drop <= o.maxDrop + 1e-9 };
  };
  say('evaluating the int8 model');
  let accuracy = (await measure(built))!;
  if (accuracy.withinMaxDrop) return report(built, accuracy);

  say(`int8 loses ${accuracy.drop.toFixed(2)} points (> ${o.maxDrop}): ranking nodes by output error`);
  const ranked = await q.rank(built);
  const limit = Math.min(
    ranked.length,
    o.maxExcluded ?? Math.max(1, Math.floor(built.quantizedNodes.length / 4)),
  );
  for (let k = 1; ; k = Math.min(limit, k * 2)) {
    for (const r of ranked.slice(0, k)) {
      if (excluded.some((e) => e.node === r.node)) continue;
      excluded.push({
        node: r.node,
        opType: r.opType,
        reason: `adds ${(r.addedError * 100).toFixed(1)}% relative output error (${(r.outputError * 100).toFixed(1)}% at its output); int8 lost ${accuracy.drop.toFixed(2)} points with it quantized`,
      });
    }
    built = build();
    say(`evaluating with ${excluded.length} node(s) in float`);
    accuracy = (await measure(built))!;
    if (accuracy.withinMaxDrop || k >= limit) break;
  }
  return report(built, accuracy);
}

interface Built {
  model: Model;
  quantizedNodes: string[];
  removedActivations: string[];
}

/** One way of quantizing a prepared model: build it with some nodes left in float, rank its nodes by error. */
interface Quantizer {
  candidates: number;
  build: (exclude: ReadonlySet<string>) => Built;
  rank: (built: Built) => Promise<NodeError[]>;
}

async function quantizerFor(prepared: Model, batches: FeedBatches, o: QuantizeOptions): Promise<Quantizer> {
  const say = o.onProgress ?? (() => {});
  if (o.mode === 'dynamic') {
    if (o.method !== 'minmax')
      throw new GraftError(
        'BAD_OPTION',
        `--method ${o.method} chooses calibrated ranges; dynamic quantization has none (activations are quantized on each run): drop --method or use --mode static`,
      );
    if (o.activationType !== 'uint8')
      throw new GraftError(
        'BAD_OPTION',
        'dynamic quantization quantizes activations to uint8 (DynamicQuantizeLinear); drop --activation-type or use --mode static',
      );

    return {
      candidates: dynamicNodes(prepared.graph).length,
      build: (exclude) => ({
        ...insertDynamic(prepared, { perChannel: o.perChannel, exclude }),
        removedActivations: [],
      }),
      rank: (b) => rankDynamicNodes(prepared, b.model, b.quantizedNodes, batches, { session: o.session }),
    };
  }
  const convs = correctableConvs(prepared);
  // Bias correction's Conv input means are measured on calibration's own pass over the batches.
  const meanOf = o.biasCorrection
    ? channelMeanAccumulator([...new Set(convs.map((n) => n.inputs[0]!))])
    : undefined;
  say(`calibrating ${o.method} ranges${meanOf ? ' (and Conv input means for bias correction)' : ''}`);
  const ranges = await calibrate(prepared, tensorsToCalibrate(prepared.graph), batches, {
    method: o.method,
    percentile: o.percentile,
    session: o.session,
    ...(meanOf ? { observe: meanOf } : {}),
  });
  const means = meanOf?.means();
  const qdqOf = (exclude: ReadonlySet<string>) =>
    insertQdq(
      means
        ? correctBiases(
            prepared,
            means,
            new Set(convs.filter((n) => !exclude.has(n.name)).map((n) => n.name)),
            o.perChannel,
          )
        : prepared,
      ranges,
      { perChannel: o.perChannel, activationType: o.activationType, exclude },
    );
  const last = new Map<Model, ReturnType<typeof qdqOf>>();
  return {
    candidates: quantizableNodes(prepared.graph).length,
    build: (exclude) => {
      const r = qdqOf(exclude);
      last.clear();
      last.set(r.model, r);
      return r;
    },
    rank: async (b) => {
      const r = last.get(b.model) ?? qdqOf(new Set());
      return rankNodes(prepared, r, await activationErrors(prepared, r, batches, { session: o.session }));
    },
  };
}
