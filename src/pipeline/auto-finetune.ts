/**
 * Fine-tuning as a candidate of the automatic search. Once features and head are chosen, LP-FT on the chosen cut
 * is tried when it can pay off: the winner is a linear head on a backbone cut (fine-tuning starts from exactly
 * that probe), there is a validation split to judge it on, enough examples per class (at 10 shots per class it
 * did not beat its probe in our experiments; at 100 it added 0.7 points), and the estimated time fits what is
 * left of the budget. LP-FT's own guard compares the fine-tuned model with its starting probe on the validation
 * split, never on the held-out one; the fine-tuned model is shipped only when it won there.
 */
import { cp, mkdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ImageDataset } from '../data/types.js';
import { MANIFEST_FILE, MODEL_DIR, writeManifest, type ModelManifest } from '../export/manifest.js';
import { writeDirectory } from '../export/whole-dir.js';
import { isConcatenation } from '../features/feature-id.js';
import { PIXELS_ID } from '../models/pixels.js';
import { loadBackbone } from '../models/registry.js';
import { FeatureExtractor } from '../features/extract.js';
import type { CandidateScore } from '../strategies/auto-select.js';
import type { TrainEvent } from './events.js';
import type { TrainResult } from './train.js';
import { fineTuneClassifier, type FineTuneResult } from './finetune.js';
import { FINETUNE_DEFAULTS } from './finetune-options.js';
import type { TrainClassifierOptions } from './options.js';

/** Fewest training examples per class at which fine-tuning is tried. */
export const FINETUNE_MIN_PER_CLASS = 20;

/** Images timed through the backbone when the run extracted none (every feature came from the cache). */
const RATE_SAMPLE = 48;

export interface FineTuneTrial {
  /** Why fine-tuning was not tried (absent when it was). */
  skipped?: string;
  /** LP-FT's validation accuracies: the fine-tuned model and the probe it started from. */
  validation?: { probe: number; fineTuned: number };
  /** Which LP-FT shipped by its validation guard. */
  kept?: 'probe' | 'fine-tuned';
  seconds: number;
}

export interface TrialContext {
  options: TrainClassifierOptions;
  dataset: ImageDataset;
  winner: { model: string; tensor: string; head: string };
  backboneId: string;
  counts: { train: number; validation: number };
  numClasses: number;
  /** Images per second through the whole backbone in this run (0 when nothing was extracted: it is then measured). */
  extractRate: number;
  /** Seconds of the budget left. */
  budgetLeft: number;
}

/** Why LP-FT is not worth trying here, or undefined when it is. */
export function fineTuneSkipReason(c: TrialContext): string | undefined {
  if (c.winner.model === PIXELS_ID || c.winner.model !== c.backboneId)
    return 'raw pixels won the search: there is no pre-trained cut to fine-tune';
  if (isConcatenation(c.winner.tensor))
    return 'the best features concatenate several depths; fine-tuning cuts the backbone at one tensor';
  if (c.winner.head !== 'linear')
    return `the best head is ${c.winner.head}; LP-FT starts from a linear probe`;
  if (c.counts.validation === 0)
    return 'no validation split to check fine-tuning against its probe (set --val-split)';
  const perClass = c.counts.train / c.numClasses;
  if (perClass < FINETUNE_MIN_PER_CLASS)
    return `${perClass.toFixed(0)} examples per class; fine-tuning is tried from ${FINETUNE_MIN_PER_CLASS}`;
  if (!(c.extractRate > 0)) return "the backbone's speed is unknown: no image could be run through it";
  const estimate = estimateSeconds(c);
  if (estimate > c.budgetLeft)
    return `time budget (about ${estimate.toFixed(0)} s needed, ${Math.max(0, c.budgetLeft).toFixed(0)} s left)`;
  return undefined;
}

/** LP-FT's cost: a forward pass over every image for its activations, then fine-tuning epochs at ~3× a forward. */
export function estimateSeconds(c: TrialContext): number {
  const images = c.counts.train + c.counts.validation;
  return images / c.extractRate + (FINETUNE_DEFAULTS.epochs * c.counts.train * 3) / c.extractRate;
}

/**
 * Images per second through the whole backbone, timed on a few of the data set's images after one warm-up batch
 * (session creation not counted): what the estimate needs when the run extracted nothing, so that a run whose
 * features are all cached decides as the run that extracted them did.
 */
export async function measureForwardRate(c: TrialContext): Promise<number> {
  const backbone = await loadBackbone(c.options.model);
  const { spec } = backbone;
  if (spec.preprocess.kind !== 'image') return 0;
  const sample = c.dataset.examples.slice(0, RATE_SAMPLE + 8);
  const fx = await FeatureExtractor.create(
    backbone.model,
    spec.inputName,
    spec.preprocess,
    [spec.featureTensor],
    {
      cacheDir: false,
      ...(c.options.threads ? { session: { threads: c.options.threads } } : {}),
    },
  );
  try {
    await fx.extract(sample.slice(0, 8), { onBadInput: 'skip' });
    const timed = sample.slice(8);
    const t0 = performance.now();
    const set = await fx.extract(timed, { onBadInput: 'skip' });
    return set.ids.length / Math.max(1e-3, (performance.now() - t0) / 1000);
  } finally {
    await fx.release();
  }
}

/** The context with a measured forward rate when the run extracted nothing (`measure` defaults to measureForwardRate). */
export async function withForwardRate(
  c: TrialContext,
  measure: (c: TrialContext) => Promise<number> = measureForwardRate,
): Promise<TrialContext> {
  if (c.extractRate > 0) return c;
  const t0 = performance.now();
  const extractRate = await measure(c);
  return { ...c, extractRate, budgetLeft: c.budgetLeft - (performance.now() - t0) / 1000 };
}

/**
 * Runs LP-FT on the chosen cut into a sibling directory of `out`. When its guard kept the fine-tuned model, that
 * directory replaces `out` as a whole (with `decision` recorded in its graft.json) and the result is returned;
 * otherwise nothing is written and the caller ships the search's winner.
 */
export async function runFineTuneTrial(
  c: TrialContext,
  emit: (e: TrainEvent) => void,
  decision: CandidateScore[],
): Promise<{ trial: FineTuneTrial; result?: FineTuneResult }> {
  const t0 = performance.now();
  const o = c.options;
  const staging = o.out ? join(dirname(o.out), `.${basename(o.out)}.lp-ft-${process.pid}`) : undefined;
  emit({ type: 'stage', stage: 'train', message: `trying LP-FT on ${c.winner.tensor}` });
  try {
    const result = await fineTuneClassifier({
      data: c.dataset,
      model: o.model,
      strategy: 'lp-ft',
      features: c.winner.tensor,
      head: 'linear',
      shots: o.shots,
      valSplit: o.valSplit,
      testSplit: o.testSplit,
      seed: o.seed,
      batchSize: o.batchSize,
      onBadInput: o.onBadInput,
      cacheDir: o.cacheDir,
      threads: o.threads,
      signal: o.signal,
      onEvent: emit,
      ...(staging ? { out: staging, checkpointDir: join(staging, 'checkpoints') } : {}),
    });
    const trial: FineTuneTrial = {
      ...(result.validation ? { validation: result.validation } : {}),
      ...(result.kept ? { kept: result.kept } : {}),
      seconds: (performance.now() - t0) / 1000,
    };
    if (result.kept !== 'fine-tuned') return { trial };
    if (o.out && staging) {
      result.manifest = await shipStaged(staging, o.out, decision, trial);
      result.dir = o.out;
    }
    return { trial, result };
  } finally {
    if (staging) await rm(staging, { recursive: true, force: true });
  }
}

/** Replaces `out` with the staged fine-tuned model directory (its checkpoints left behind), the decision recorded. */
async function shipStaged(
  staging: string,
  out: string,
  decision: CandidateScore[],
  trial: FineTuneTrial,
): Promise<ModelManifest> {
  const manifest = JSON.parse(await readFile(join(staging, MANIFEST_FILE), 'utf8')) as ModelManifest;
  const shipped: ModelManifest = {
    ...manifest,
    metrics: { ...manifest.metrics, candidates: decision, fineTuning: trial },
  };
  await writeDirectory(out, MODEL_DIR, async (dir) => {
    await mkdir(dir, { recursive: true });
    await cp(staging, dir, { recursive: true, filter: (src) => basename(src) !== 'checkpoints' });
    await writeManifest(dir, shipped);
  });
  return shipped;
}

/**
 * The search's fine-tuning trial, recorded in `result`. True when LP-FT's fine-tuned
 * model won its validation guard and was shipped: `result` then describes it.
 */
export async function fineTuneTrial(result: TrainResult, given: TrialContext): Promise<boolean> {
  const emit = given.options.onEvent ?? (() => {});
  // The time estimate needs a forward rate; measure one only when everything else says LP-FT is worth trying.
  const worth = fineTuneSkipReason({ ...given, extractRate: 1, budgetLeft: Infinity }) === undefined;
  const context = worth ? await withForwardRate(given) : given;
  const skipped = fineTuneSkipReason(context);
  if (skipped) {
    result.fineTuning = { skipped, seconds: 0 };
    emit({ type: 'stage', stage: 'select', message: `fine-tuning not tried: ${skipped}` });
    return false;
  }
  const { trial, result: tuned } = await runFineTuneTrial(context, emit, result.candidates);
  result.fineTuning = trial;
  if (!tuned) return false;
  const tensor = context.winner.tensor;
  result.recipe = 'lp-ft';
  result.evaluation = tuned.evaluation;
  result.comparisons.push({ name: `graft: LP-FT (fine-tuned to ${tensor})`, report: tuned.evaluation });
  result.history = tuned.history;
  // The probe's mistakes are not the fine-tuned model's.
  result.mistakes = [];
  result.settings = { ...result.settings, recipe: 'lp-ft' };
  result.seconds.train += tuned.seconds.train;
  if (tuned.dir) result.dir = tuned.dir;
  if (tuned.manifest) result.manifest = tuned.manifest;
  return true;
}
