/** The data half of every image pipeline: load, check, split (stratified, seeded), k-shot sample, count, report. */
import { loadDataset } from '../data/load.js';
import { sampleShots, stratifiedSplit, type DatasetSplit } from '../data/split.js';
import type { Dataset, ImageDataset } from '../data/types.js';
import { GraftError } from '../errors.js';
import type { TrainEvent } from './events.js';
import type { TrainClassifierOptions } from './options.js';

export interface ImageData {
  dataset: ImageDataset;
  split: DatasetSplit<ImageDataset>;
  /** The training split, k-shot sampled when asked. */
  train: ImageDataset;
  counts: { train: number; validation: number; test: number };
  /** Examples per class and split. */
  perClass: Record<string, Record<string, number>>;
}

type DataOptions = Pick<
  TrainClassifierOptions,
  'data' | 'onBadInput' | 'valSplit' | 'testSplit' | 'seed' | 'shots'
>;

export async function prepareImageData(o: DataOptions, emit: (e: TrainEvent) => void): Promise<ImageData> {
  emit({
    type: 'stage',
    stage: 'load',
    message: `loading ${typeof o.data === 'string' ? o.data : o.data.name}`,
  });
  const loaded: Dataset =
    typeof o.data === 'string' ? await loadDataset(o.data, { onBadInput: o.onBadInput }) : o.data;
  if (loaded.kind !== 'image')
    throw new GraftError('BAD_INPUT', 'text data sets are trained with the text pipeline');
  const dataset = loaded;
  if (dataset.labels.length < 2)
    throw new GraftError('BAD_INPUT', `need at least 2 classes, found ${dataset.labels.length}`);
  const split = stratifiedSplit(dataset, { validation: o.valSplit, test: o.testSplit, seed: o.seed });
  const train = o.shots ? sampleShots(split.train, o.shots, o.seed) : split.train;
  const shotWarnings = o.shots ? train.warnings.slice(split.train.warnings.length) : [];
  for (const w of [...dataset.warnings, ...split.warnings, ...shotWarnings])
    emit({ type: 'warning', warning: w });
  const parts = [
    ['train', train],
    ['validation', split.validation],
    ['test', split.test],
  ] as const;
  const perClass: Record<string, Record<string, number>> = {};
  for (const [part, ds] of parts) {
    for (const e of ds.examples) {
      const row = (perClass[dataset.labels[e.label]!] ??= { train: 0, validation: 0, test: 0 });
      row[part] = (row[part] ?? 0) + 1;
    }
  }
  const counts = {
    train: train.examples.length,
    validation: split.validation.examples.length,
    test: split.test.examples.length,
  };
  emit({ type: 'data', labels: [...dataset.labels], counts });
  return { dataset, split, train, counts, perClass };
}
