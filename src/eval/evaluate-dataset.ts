/**
 * A trained classifier scored on a labelled data set (what `graft eval` prints): the data set's labels are
 * matched to the model's by name, and a label the model does not know is refused rather than scored as wrong.
 * An input that cannot be read at prediction time (an image that fails to decode) is skipped and counted under
 * the 'skip' policy, as training does, or fails the evaluation with BAD_INPUT under 'fail'.
 */
import type { BadInputPolicy, DataWarning, Dataset } from '../data/types.js';
import { unreadableWarning } from '../data/warnings.js';
import { GraftError, isGraftError } from '../errors.js';
import type { Classifier, PredictInput, PredictOptions } from '../predict/classifier.js';
import { exampleInput } from '../predict/inputs.js';
import { evaluate, type EvaluationReport } from './report.js';

export interface EvaluateDatasetOptions extends PredictOptions {
  /** Default 'skip'. */
  onBadInput?: BadInputPolicy;
}

export interface DatasetEvaluation {
  report: EvaluationReport;
  /** Inputs left out because they could not be read (none under 'fail'). */
  warnings: DataWarning[];
}

export async function evaluateDataset(
  clf: Classifier,
  ds: Dataset,
  options: EvaluateDatasetOptions = {},
): Promise<DatasetEvaluation> {
  const labels = clf.labels;
  const map = ds.labels.map((l) => labels.indexOf(l));
  const unknown = ds.labels.filter((_, i) => map[i]! < 0);
  if (unknown.length) {
    throw new GraftError(
      'BAD_INPUT',
      `labels not known to the model: ${unknown.join(', ')} (it knows ${labels.join(', ')})`,
    );
  }
  const inputs = ds.examples.map((e) => exampleInput(ds, e));
  const { probs, kept, skipped } = await predictReadable(clf, inputs, options);
  const y = Int32Array.from(kept, (i) => map[ds.examples[i]!.label]!);
  const ids = skipped.map(({ index, reason }) => ({ id: ds.examples[index]!.id, reason }));
  return { report: evaluate(probs, y), warnings: unreadableWarning(ids) };
}

/**
 * Probabilities of the inputs that can be read. A batch that fails with BAD_INPUT is retried one input at a
 * time under 'skip', so one bad file costs only itself.
 */
async function predictReadable(
  clf: Classifier,
  inputs: readonly PredictInput[],
  options: EvaluateDatasetOptions,
): Promise<{ probs: Float32Array; kept: number[]; skipped: { index: number; reason: string }[] }> {
  const batch = options.batchSize ?? 32;
  const c = clf.labels.length;
  const rows: Float32Array[] = [];
  const kept: number[] = [];
  const skipped: { index: number; reason: string }[] = [];
  const predict = (part: readonly PredictInput[]) =>
    clf.predictProbs(part, { ...options, onBatch: undefined });
  for (let start = 0; start < inputs.length; start += batch) {
    const indices = [...Array(Math.min(batch, inputs.length - start)).keys()].map((i) => start + i);
    try {
      rows.push(await predict(indices.map((i) => inputs[i]!)));
      kept.push(...indices);
    } catch (e) {
      if (!isGraftError(e, 'BAD_INPUT') || options.onBadInput === 'fail') throw e;
      for (const i of indices) {
        try {
          rows.push(await predict([inputs[i]!]));
          kept.push(i);
        } catch (one) {
          if (!isGraftError(one, 'BAD_INPUT')) throw one;
          skipped.push({ index: i, reason: one.message });
        }
      }
    }
    options.onBatch?.(Math.min(start + batch, inputs.length), inputs.length);
  }
  const probs = new Float32Array(kept.length * c);
  let offset = 0;
  for (const r of rows) {
    probs.set(r, offset);
    offset += r.length;
  }
  return { probs, kept, skipped };
}
