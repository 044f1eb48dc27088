/** The data layer: datasets, splits, sampling and seeded randomness. */
export * from './types.js';
export { WarningCollector, mergeWarnings, WARNING_ITEMS_SHOWN } from './warnings.js';
export {
  mulberry32,
  deriveSeed,
  permutation,
  randomInt,
  Mulberry32,
  shuffleInPlace,
  shuffled,
  type Rng,
} from './random.js';
export { parseCsv, type CsvRecord } from './csv.js';
export { checkImageFile, hasImageExtension, sniffImageFormat } from './verify.js';
export { loadImageFolder } from './image-folder.js';
export { loadManifest } from './manifest.js';
export { loadMnist, MNIST_SIZE } from './builtin-mnist.js';
export { loadSpamAssassin } from './builtin-spam.js';
export {
  stratifiedSplit,
  sampleShots,
  subset,
  classCounts,
  indicesByClass,
  type SplitOptions,
  type DatasetSplit,
  type ShotOptions,
} from './split.js';
export { loadDataset, BUILTIN_DATASETS, ACCEPTED_FORMS } from './load.js';
