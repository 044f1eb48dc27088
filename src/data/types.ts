/** The data layer's common shapes: examples, datasets, warnings and load options. */
import type { RawImage } from '../preprocess/image-types.js';

/** What an image example points at: a file path, encoded bytes, or decoded pixels (builtin MNIST). */
export type ImageSource = string | Uint8Array | RawImage;

export interface Example<S = ImageSource> {
  /** Stable identifier: a path relative to the dataset root, a manifest row, or `mnist/<digit>/<n>`. */
  readonly id: string;
  /** Index into the dataset's `labels`. */
  readonly label: number;
  /** For image datasets the image; for text datasets the text itself. */
  readonly source: S;
  /** sha256 of a file's bytes (image files): identical files share it, and splits keep them together. */
  readonly contentHash?: string;
}

export type DataWarningCode =
  | 'EMPTY_CLASS'
  | 'IGNORED_FILE'
  | 'BAD_IMAGE'
  | 'MISSING_FILE'
  | 'BAD_ROW'
  | 'SINGLETON_CLASS'
  | 'TOO_FEW_SHOTS'
  | 'LINK_OUTSIDE_CLASS'
  | 'DUPLICATE'
  | 'CONFLICTING_DUPLICATE'
  | 'NO_HELD_OUT'
  | 'STUDENT_LARGER';

/** One kind of problem, counted: `count` occurrences, the first few of which are listed in `items`. */
export interface DataWarning {
  readonly code: DataWarningCode;
  readonly message: string;
  readonly count: number;
  readonly items: readonly string[];
}

interface DatasetBase<K extends string, S> {
  readonly kind: K;
  /** Where it came from: `builtin:mnist`, a directory, or a manifest path. */
  readonly name: string;
  /** Class names; `examples[i].label` indexes this. Sorted (numerically when all names are numbers). */
  readonly labels: readonly string[];
  readonly examples: readonly Example<S>[];
  readonly warnings: readonly DataWarning[];
}

export type ImageDataset = DatasetBase<'image', ImageSource>;
export type TextDataset = DatasetBase<'text', string>;
export type Dataset = ImageDataset | TextDataset;

/** What to do with a file or row that cannot be used: skip it and report a counted warning, or throw. */
export type BadInputPolicy = 'skip' | 'fail';

export interface LoadOptions {
  /** Default 'skip': bad files/rows are left out and counted in `warnings`; 'fail' throws GraftError('BAD_INPUT'). */
  readonly onBadInput?: BadInputPolicy;
  /**
   * How hard image files are checked while loading. 'header' (default) reads the first bytes and rejects empty
   * files and files that are not JPEG/PNG/WebP/GIF/TIFF/BMP; 'decode' fully decodes each image (slow, catches
   * truncated files); 'none' only checks that the file exists.
   */
  readonly verify?: 'none' | 'header' | 'decode';
}

export type ResolvedLoadOptions = Required<LoadOptions>;

export function resolveLoadOptions(options: LoadOptions = {}): ResolvedLoadOptions {
  return { onBadInput: options.onBadInput ?? 'skip', verify: options.verify ?? 'header' };
}

/** Image file extensions recognised in folders and manifests (compared case-insensitively). */
export const IMAGE_EXTENSIONS: readonly string[] = [
  '.jpg',
  '.jpeg',
  '.png',
  '.webp',
  '.gif',
  '.tif',
  '.tiff',
  '.bmp',
];

/** Sorts class names: numerically when every name is a number, otherwise by code unit (locale-independent). */
export function sortLabels(names: Iterable<string>): string[] {
  const unique = [...new Set(names)];
  const numeric = unique.length > 0 && unique.every((n) => n.trim() !== '' && Number.isFinite(Number(n)));
  return numeric
    ? unique.sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0))
    : unique.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
