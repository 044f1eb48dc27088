/**
 * The unlabelled part of a transfer set: images whose labels (if any) are ignored, given as a dataset spec (a
 * class folder, a manifest, `mnist`), a plain folder of images, or image sources. They become examples with
 * label -1 (the distillation loss gives them the soft-target term only). Images the labelled data already uses
 * (same content hash, or the same id in the same data set) are dropped: held-out ones would leak the teacher's
 * answers on the test split into the student, training ones would count twice.
 */
import { readdir, stat } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import { walkFiles } from '../data/image-folder.js';
import { loadDataset } from '../data/load.js';
import type { BadInputPolicy, DataWarning, Example, ImageSource } from '../data/types.js';
import { checkImageFile, hasImageExtension, mapLimit } from '../data/verify.js';
import { WarningCollector } from '../data/warnings.js';
import { GraftError } from '../errors.js';
import type { DistillOptions } from './options.js';

export interface UnlabeledSet {
  name: string;
  examples: Example<ImageSource>[];
  warnings: DataWarning[];
}

/** Whether `dir` holds image files directly (a plain folder of unlabelled images, not a class folder). */
async function holdsImages(dir: string): Promise<boolean> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.some((n) => !n.startsWith('.') && hasImageExtension(n));
}

async function plainFolder(root: string, onBadInput: BadInputPolicy): Promise<UnlabeledSet> {
  const warn = new WarningCollector(onBadInput, root);
  const files = (await walkFiles(root)).filter(hasImageExtension);
  const problems = await mapLimit(files, 8, (f) => checkImageFile(f, 'header'));
  const examples: Example<ImageSource>[] = [];
  files.forEach((f, i) => {
    const id = relative(root, f).split(sep).join('/');
    const why = problems[i];
    if (why) warn.bad('BAD_IMAGE', id, why);
    else examples.push({ id: `unlabeled/${id}`, label: -1, source: f });
  });
  return { name: root, examples, warnings: warn.toArray() };
}

export async function loadUnlabeled(
  from: string | readonly ImageSource[],
  onBadInput: BadInputPolicy,
): Promise<UnlabeledSet> {
  if (typeof from !== 'string')
    return {
      name: 'unlabeled images',
      examples: from.map((source, i) => ({ id: `unlabeled/${i}`, label: -1, source })),
      warnings: [],
    };
  const isDir = await stat(from).then(
    (s) => s.isDirectory(),
    () => false,
  );
  const set = isDir && (await holdsImages(from)) ? await plainFolder(from, onBadInput) : undefined;
  if (set) return set;
  const ds = await loadDataset(from, { onBadInput });
  if (ds.kind !== 'image')
    throw new GraftError('BAD_INPUT', `--unlabeled '${from}' is text data; image students need images`);
  return {
    name: ds.name,
    examples: ds.examples.map((e) => ({ ...e, label: -1 })),
    warnings: [...ds.warnings],
  };
}

/**
 * The unlabelled examples that are not among `taken` (examples of data set `dataName` already used: the
 * labelled training examples, and the held-out ones): matched by content hash where both have one, otherwise
 * by id when both come from the same data set.
 */
export function withoutOverlap(
  set: UnlabeledSet,
  dataName: string,
  taken: readonly Example<ImageSource>[],
): { examples: Example<ImageSource>[]; dropped: number } {
  const hashes = new Set(taken.flatMap((e) => (e.contentHash ? [e.contentHash] : [])));
  const ids = set.name === dataName ? new Set(taken.map((e) => e.id)) : new Set<string>();
  const examples = set.examples.filter(
    (e) => !(e.contentHash && hashes.has(e.contentHash)) && !ids.has(e.id),
  );
  return { examples, dropped: set.examples.length - examples.length };
}

/** The transfer set's unlabelled examples (none without `o.unlabeled`), with their warnings reported. */
export async function unlabeledExamples(
  o: DistillOptions,
  dataName: string,
  taken: readonly Example<ImageSource>[],
  emit: NonNullable<DistillOptions['onEvent']>,
): Promise<Example<ImageSource>[]> {
  if (o.unlabeled === undefined) return [];
  emit({ type: 'stage', stage: 'load', message: 'loading the unlabelled images' });
  const set = await loadUnlabeled(o.unlabeled, o.onBadInput);
  for (const w of set.warnings) emit({ type: 'warning', warning: w });
  const kept = withoutOverlap(set, dataName, taken);
  if (kept.dropped)
    emit({
      type: 'stage',
      stage: 'load',
      message: `${kept.dropped} unlabelled image(s) are also in the labelled data (training or held out): left out`,
    });
  if (kept.examples.length === 0)
    throw new GraftError('BAD_INPUT', `--unlabeled ${set.name}: no usable unlabelled images`);
  return kept.examples;
}
