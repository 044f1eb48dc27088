/** Runs a model over a validation DataSource and turns the predictions into val_* metrics. */
import { evaluate, type EvaluationReport } from '../eval/report.js';
import type { DataSource, TrainableModel } from './types.js';

export async function predictAll(
  model: TrainableModel,
  data: DataSource,
  batchSize: number,
  signal?: AbortSignal,
): Promise<{ probs: Float32Array; labels: Int32Array }> {
  const probs: Float32Array[] = [];
  const labels: Int32Array[] = [];
  for await (const batch of data.batches(batchSize, 0, false)) {
    signal?.throwIfAborted();
    probs.push(await model.predictProbs(batch.inputs));
    labels.push(batch.labels);
  }
  const concat = <T extends Float32Array | Int32Array>(parts: T[], make: (n: number) => T): T => {
    const out = make(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  return {
    probs: concat(probs, (n) => new Float32Array(n)),
    labels: concat(labels, (n) => new Int32Array(n)),
  };
}

export async function validate(
  model: TrainableModel,
  data: DataSource,
  batchSize: number,
  signal?: AbortSignal,
): Promise<{ metrics: Record<string, number>; report: EvaluationReport }> {
  const { probs, labels } = await predictAll(model, data, batchSize, signal);
  const report = evaluate(probs, labels);
  return {
    report,
    metrics: {
      val_loss: report.logLoss,
      val_accuracy: report.accuracy,
      val_macro_f1: report.macroF1,
      val_balanced_accuracy: report.balancedAccuracy,
    },
  };
}
