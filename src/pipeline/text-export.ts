/**
 * Text model directories: model.onnx (encoder + head, one graph), the tokenizer files, report.html and graft.json (preprocess
 * kind 'text', inputs = the encoder's own inputs). Also evaluation of an exported model on labelled texts.
 */
import { loadDataset } from '../data/load.js';
import type { TextDataset } from '../data/types.js';
import { GraftError } from '../errors.js';
import { evaluate, type EvaluationReport } from '../eval/report.js';
import type { ModelManifest } from '../export/manifest.js';
import type { ReportData } from '../report/types.js';
import { reportData, writeClassifierDir } from './model-dir.js';
import { textPooler } from './text-recipes.js';
import { headlineMetrics } from './export.js';
import type { Model } from '../onnx/ir.js';
import { Classifier } from '../predict/classifier.js';
import type { ResolvedTextTrainingArguments } from '../text/finetune/arguments.js';
import { POOLER_OUTPUT } from '../text/finetune/graph.js';
import type { SequenceClassifier } from '../text/finetune/model.js';
import type { LoadedTextEncoder } from '../text/encoder.js';
import { copyTokenizerFiles } from '../text/predict.js';
import type { TextPreprocess } from '../models/spec.js';
import type { TextTrainResult, TrainTextClassifierOptions } from './train-text.js';

export interface TextExportRequest {
  model: Model;
  encoder: LoadedTextEncoder;
  source: string;
  out: string;
  inputs: string[];
  preprocess: TextPreprocess;
  featureTensor: string;
  head: Record<string, unknown>;
  training: Record<string, unknown>;
  result: TextTrainResult;
}

/** The report of a text result: what every text path knows (no thumbnails: text mistakes are not collected). */
export function textReport(
  result: TextTrainResult,
  modelId: string,
  training: Record<string, unknown>,
): ReportData {
  const data = training['data'];
  return reportData({
    datasetName: typeof data === 'string' ? data : 'data',
    modelId,
    labels: result.labels,
    evaluation: result.evaluation,
    evaluatedOn: result.evaluatedOn,
    counts: { ...result.counts },
    settings: training,
    seconds: result.seconds,
    history: result.history,
  });
}

export async function writeTextModel(r: TextExportRequest): Promise<ModelManifest> {
  return writeClassifierDir(
    r.out,
    r.model,
    {
      task: 'text-classification',
      labels: r.result.labels,
      inputs: r.inputs,
      output: 'probabilities',
      preprocess: r.preprocess,
      base: { id: r.source, sha256: r.encoder.modelHash },
      featureTensor: r.featureTensor,
      head: r.head,
      training: r.training,
      metrics: {
        ...headlineMetrics(r.result),
        ...(r.result.bestModelCheckpoint
          ? { bestModelCheckpoint: r.result.bestModelCheckpoint, bestMetric: r.result.bestMetric }
          : {}),
      },
    },
    textReport(r.result, r.source, r.training),
    { also: (dir) => copyTokenizerFiles(r.encoder.dir, dir) },
  );
}

export async function exportFinetuned(r: {
  model: SequenceClassifier;
  encoder: LoadedTextEncoder;
  source: string;
  args: ResolvedTextTrainingArguments;
  options: TrainTextClassifierOptions;
  result: TextTrainResult;
}): Promise<ModelManifest> {
  const exported = r.model.exportModel();
  const pooler = textPooler(r.options, r.result.strategy);
  const usesPooler = pooler === 'auto' && exported.graph.nodes.some((n) => n.outputs.includes(POOLER_OUTPUT));
  const { outputDir, resumeFromCheckpoint: _r, ...training } = r.args;
  const lowercase = r.encoder.tokenizer.lowercase;
  return writeTextModel({
    model: exported,
    encoder: r.encoder,
    source: r.source,
    out: outputDir,
    inputs: [...r.model.inputs],
    preprocess: {
      kind: 'text',
      maxLength: r.args.maxSeqLength,
      pooling: 'cls',
      normalize: false,
      ...(lowercase === undefined ? {} : { lowercase }),
    },
    featureTensor: usesPooler ? POOLER_OUTPUT : 'last_hidden_state[:, 0]',
    head: {
      kind: 'sequence-classification',
      pooler,
      dropout: r.options.dropout ?? 0.1,
      unfreeze: r.options.unfreeze ?? 'all',
    },
    training: {
      method: 'finetune',
      strategy: r.result.strategy,
      ...(r.result.kept ? { kept: r.result.kept } : {}),
      data: typeof r.options.data === 'string' ? r.options.data : r.options.data.name,
      ...training,
    },
    result: r.result,
  });
}

/**
 * Evaluates an exported text model on a labelled text dataset. Labels the model does not know are a
 * GraftError('BAD_INPUT') naming the label and the model's labels.
 */
export async function evaluateTextModel(
  dir: string,
  data: string | TextDataset,
  batchSize = 32,
): Promise<EvaluationReport> {
  const ds = typeof data === 'string' ? await loadDataset(data) : data;
  if (ds.kind !== 'text') throw new GraftError('BAD_INPUT', `'${ds.name}' is not a text dataset`);
  const clf = await Classifier.load(dir);
  try {
    if (clf.manifest.preprocess.kind !== 'text')
      throw new GraftError('BAD_INPUT', `'${dir}' is not a text model`);
    const index = new Map(clf.labels.map((l, i) => [l, i]));
    const labels = Int32Array.from(ds.examples, (e) => {
      const name = ds.labels[e.label]!;
      const i = index.get(name);
      if (i === undefined)
        throw new GraftError(
          'BAD_INPUT',
          `label '${name}' (${e.id}) is not one the model was trained on: ${clf.labels.join(', ')}`,
          { label: name, id: e.id },
        );
      return i;
    });
    const probs = await clf.predictProbs(
      ds.examples.map((e) => ({ text: e.source })),
      { batchSize },
    );
    return evaluate(probs, labels, { topK: [] });
  } finally {
    await clf.release();
  }
}
