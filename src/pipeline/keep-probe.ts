/** LP-FT's guard: the fine-tuned model is kept only when it beats its starting probe on the validation split. */
import type { DatasetSplit } from '../data/split.js';
import type { ImageDataset } from '../data/types.js';
import { accuracy } from '../eval/metrics.js';
import type { ImagePreprocess } from '../models/spec.js';
import type { SessionOptions } from '../runtime/session.js';
import type { ActivationCache } from '../strategies/finetune/activations.js';
import type { BackboneTrainable } from '../strategies/finetune/backbone-trainable.js';
import { activationsFor } from '../strategies/finetune/run-phases.js';
import { arrayDataSource } from '../train/data-source.js';
import { predictAll } from '../train/validation.js';
import type { LinearProbe } from './probe-warm-start.js';

export interface KeepDecision {
  /** True: ship the probe (frozen backbone + probe head). */
  probe: boolean;
  validation: { probe: number; fineTuned: number };
  message: string;
}

export async function keepProbe(
  model: BackboneTrainable,
  probe: LinearProbe,
  cache: ActivationCache,
  split: DatasetSplit<ImageDataset>,
  preprocess: ImagePreprocess,
  session?: SessionOptions,
): Promise<KeepDecision | undefined> {
  const val = probe.probs['validation'];
  const examples = split.validation.examples;
  if (!val || examples.length === 0) return undefined;
  const acts = await activationsFor(model, cache, examples, preprocess, session);
  const labels = Int32Array.from(examples, (e) => e.label);
  const tuned = await predictAll(model, arrayDataSource({ [model.inputName]: acts }, labels), 64);
  return keepProbeDecision({
    probe: accuracy(val.probs, val.labels),
    fineTuned: accuracy(tuned.probs, labels),
  });
}

/** The guard for any modality: ship the probe when fine-tuning ended below it on the validation split. */
export function keepProbeDecision(validation: { probe: number; fineTuned: number }): KeepDecision {
  const keep = validation.fineTuned < validation.probe;
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  return {
    probe: keep,
    validation,
    message: keep
      ? `fine-tuning ended below its starting probe on validation (${pct(validation.fineTuned)} < ${pct(validation.probe)}): keeping the probe`
      : `fine-tuned ${pct(validation.fineTuned)} vs probe ${pct(validation.probe)} on validation: keeping the fine-tuned model`,
  };
}
