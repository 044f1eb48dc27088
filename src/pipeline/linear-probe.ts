/**
 * `linear-probe` is one procedure wherever it is asked for (the CLI, `trainClassifier`, `fineTuneClassifier`):
 * the frozen backbone's features are extracted (and cached), the cut is chosen by cross-validation when
 * `features` is `auto`, and a head — linear unless `head` says otherwise — is fitted on them (L-BFGS for a linear
 * head), then exported with report.html. This maps the feature-extraction result onto a fine-tuning result.
 */
import type { FineTuneClassifierOptions } from './finetune-options.js';
import type { FineTuneResult } from './finetune.js';
import { trainClassifier } from './train.js';

export async function linearProbeClassifier(
  input: Partial<FineTuneClassifierOptions> & Pick<FineTuneClassifierOptions, 'data'>,
  o: FineTuneClassifierOptions,
): Promise<FineTuneResult> {
  const r = await trainClassifier({
    ...input,
    head: input.head ?? 'linear',
    baseline: input.baseline ?? false,
  });
  return {
    labels: r.labels,
    featureTensor: r.featureTensor,
    evaluation: r.evaluation,
    evaluatedOn: r.evaluatedOn,
    ...(r.history ? { history: r.history } : {}),
    counts: { train: r.counts.train, validation: r.counts.validation, test: r.counts.test },
    seconds: { train: r.seconds.train, total: r.seconds.total },
    ...(r.dir ? { dir: r.dir } : {}),
    ...(r.manifest ? { manifest: r.manifest } : {}),
    ...(r.int8 ? { int8: r.int8 } : {}),
    strategy: 'linear-probe',
    phases: [{ name: 'linear-probe', unfreeze: 'none', epochs: o.epochs, lr: o.lr, skipped: false }],
    trainableTensors: 0,
    activationsCached: true,
  };
}
