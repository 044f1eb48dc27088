/**
 * The unlabelled part of a transfer set, for either modality: examples whose labels (if any) are ignored. They
 * become examples with label -1 (the distillation loss gives them the soft-target term only).
 *
 * - images: a dataset spec (a class folder, `mnist`), a manifest with a `path` column (a label column is not
 *   needed), a plain folder of images, or image sources;
 * - texts: a CSV / JSONL manifest with a `text` column (no label column needed), a folder of `.txt` files (one
 *   example per file), a builtin text data set (`spam-assassin`), or the texts themselves.
 *
 * Examples the labelled data already uses (same content: file hash or text, or the same id in the same data set)
 * are dropped: held-out ones would leak the teacher's answers on the test split into the student, training ones
 * would count twice. Unusable rows and files (an empty text, an unreadable image) are counted warnings.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, relative, sep } from 'node:path';
import { walkFiles } from '../data/image-folder.js';
import { loadDataset } from '../data/load.js';
import { loadUnlabeledManifest } from '../data/manifest.js';
import type { BadInputPolicy, Dataset, DataWarning, Example, ImageSource } from '../data/types.js';
import { checkImageFile, hasImageExtension, mapLimit } from '../data/verify.js';
import { WarningCollector } from '../data/warnings.js';
import { GraftError } from '../errors.js';
import type { DistillOptions } from './options.js';

export type Modality = 'image' | 'text';
/** What an example of the modality holds: an image, or the text itself. */
export type SourceOf<K extends Modality> = K extends 'text' ? string : ImageSource;

export interface UnlabeledSet<S = ImageSource> {
  name: string;
  examples: Example<S>[];
  warnings: DataWarning[];
}

const NOUN: Record<Modality, string> = { image: 'images', text: 'texts' };
const MANIFEST_EXTENSIONS = ['.csv', '.jsonl', '.ndjson'];

const isDirectory = (path: string): Promise<boolean> =>
  stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );

/** Whether `dir` holds files of the modality directly (a plain folder of them, not a class folder). */
async function holdsFiles(dir: string, kind: Modality): Promise<boolean> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.some((n) => !n.startsWith('.') && fileOf(kind, n));
}

const fileOf = (kind: Modality, name: string): boolean =>
  kind === 'image' ? hasImageExtension(name) : extname(name).toLowerCase() === '.txt';

/** A plain folder: every image file, or every `.txt` file (one text each), anywhere below `root`. */
async function plainFolder(
  root: string,
  kind: Modality,
  onBadInput: BadInputPolicy,
): Promise<UnlabeledSet<unknown>> {
  const warn = new WarningCollector(onBadInput, root);
  const files = (await walkFiles(root)).filter((f) => fileOf(kind, f));
  const examples: Example<unknown>[] = [];
  const idOf = (f: string) => relative(root, f).split(sep).join('/');
  if (kind === 'image') {
    const problems = await mapLimit(files, 8, (f) => checkImageFile(f, 'header'));
    files.forEach((f, i) => {
      const why = problems[i];
      if (why) warn.bad('BAD_IMAGE', idOf(f), why);
      else examples.push({ id: `unlabeled/${idOf(f)}`, label: -1, source: f });
    });
  } else {
    const texts = await mapLimit(files, 8, (f) => readFile(f, 'utf8'));
    files.forEach((f, i) => {
      const text = texts[i]!;
      if (text.trim() === '') warn.bad('BAD_ROW', idOf(f), 'empty text');
      else examples.push({ id: `unlabeled/${idOf(f)}`, label: -1, source: text });
    });
  }
  return { name: root, examples, warnings: warn.toArray() };
}

/** A data set spec read for its inputs only: manifests need no label column, other forms' labels are dropped. */
async function unlabeledDataset(spec: string, onBadInput: BadInputPolicy): Promise<Dataset> {
  const isFile = await stat(spec).then(
    (s) => s.isFile(),
    () => false,
  );
  return isFile && MANIFEST_EXTENSIONS.includes(extname(spec).toLowerCase())
    ? loadUnlabeledManifest(spec, { onBadInput })
    : loadDataset(spec, { onBadInput });
}

export async function loadUnlabeled<K extends Modality>(
  kind: K,
  from: string | readonly SourceOf<K>[],
  onBadInput: BadInputPolicy,
): Promise<UnlabeledSet<SourceOf<K>>> {
  const typed = (s: UnlabeledSet<unknown>) => s as UnlabeledSet<SourceOf<K>>;
  if (typeof from !== 'string')
    return {
      name: `unlabeled ${NOUN[kind]}`,
      examples: from.map((source, i) => ({ id: `unlabeled/${i}`, label: -1, source })),
      warnings: [],
    };
  if ((await isDirectory(from)) && (await holdsFiles(from, kind)))
    return typed(await plainFolder(from, kind, onBadInput));
  const ds = await unlabeledDataset(from, onBadInput);
  if (ds.kind !== kind)
    throw new GraftError(
      'BAD_INPUT',
      `--unlabeled '${from}' is ${ds.kind} data; ${kind === 'image' ? 'image' : 'text'} students need ${NOUN[kind]}`,
      { unlabeled: from },
    );
  return typed({
    name: ds.name,
    examples: ds.examples.map((e) => ({ ...e, label: -1 })),
    warnings: [...ds.warnings],
  });
}

/**
 * The unlabelled examples that are not among `taken` (examples of data set `dataName` already used: the
 * labelled training examples, and the held-out ones): matched by content (file hash, or the text itself) where
 * both have one, otherwise by id when both come from the same data set.
 */
export function withoutOverlap<S>(
  kind: Modality,
  set: UnlabeledSet<S>,
  dataName: string,
  taken: readonly Example<S>[],
): { examples: Example<S>[]; dropped: number } {
  // What makes two examples the same: the text itself, or an image file's hash.
  const key = (e: Example<S>): string | undefined =>
    kind === 'text' ? `text:${String(e.source)}` : e.contentHash;
  const contents = new Set(taken.flatMap((e) => key(e) ?? []));
  const ids = set.name === dataName ? new Set(taken.map((e) => e.id)) : new Set<string>();
  const examples = set.examples.filter((e) => {
    const k = key(e);
    return !(k !== undefined && contents.has(k)) && !ids.has(e.id);
  });
  return { examples, dropped: set.examples.length - examples.length };
}

/** The transfer set's unlabelled examples (none without `o.unlabeled`), with their warnings reported. */
export async function unlabeledExamples<K extends Modality>(
  kind: K,
  o: Pick<DistillOptions, 'unlabeled' | 'onBadInput' | 'onEvent'>,
  dataName: string,
  taken: readonly Example<SourceOf<K>>[],
): Promise<Example<SourceOf<K>>[]> {
  if (o.unlabeled === undefined) return [];
  const emit = o.onEvent ?? (() => {});
  const noun = NOUN[kind];
  emit({ type: 'stage', stage: 'load', message: `loading the unlabelled ${noun}` });
  const set = await loadUnlabeled(kind, o.unlabeled as string | readonly SourceOf<K>[], o.onBadInput);
  for (const w of set.warnings) emit({ type: 'warning', warning: w });
  const kept = withoutOverlap(kind, set, dataName, taken);
  if (kept.dropped)
    emit({
      type: 'stage',
      stage: 'load',
      message: `${kept.dropped} unlabelled ${noun} are also in the labelled data (training or held out): left out`,
    });
  if (kept.examples.length === 0)
    throw new GraftError('BAD_INPUT', `--unlabeled ${set.name}: no usable unlabelled ${noun}`, {
      unlabeled: set.name,
    });
  return kept.examples;
}
