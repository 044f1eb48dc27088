/**
 * An image folder dataset: one sub-folder per class (nested folders inside a class are walked too).
 * Hidden entries (starting with '.') are ignored; files without an image extension are counted as ignored;
 * image files that are empty or not images are bad input (skipped with a warning, or an error under 'fail').
 * A class folder without usable images is dropped with an EMPTY_CLASS warning (an error under 'fail').
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { GraftError } from '../errors.js';
import {
  resolveLoadOptions,
  sortLabels,
  type Example,
  type ImageDataset,
  type LoadOptions,
} from './types.js';
import { checkImageFile, hasImageExtension, mapLimit } from './verify.js';
import { hashFiles, noteDuplicates } from './duplicates.js';
import { WarningCollector } from './warnings.js';

interface Entry {
  readonly path: string;
  readonly isDir: boolean;
}

async function listDir(dir: string): Promise<Entry[]> {
  const dirents = await readdir(dir, { withFileTypes: true });
  const out: Entry[] = [];
  for (const d of dirents) {
    if (d.name.startsWith('.')) continue;
    const path = join(dir, d.name);
    let isDir = d.isDirectory();
    if (d.isSymbolicLink())
      isDir = await stat(path).then(
        (s) => s.isDirectory(),
        () => false,
      );
    out.push({ path, isDir });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** All files under `dir`, sorted; a directory reached twice through symlinks is walked once. */
export async function walkFiles(dir: string, seen = new Set<string>()): Promise<string[]> {
  const real = await realpath(dir);
  if (seen.has(real)) return [];
  seen.add(real);
  const files: string[] = [];
  for (const e of await listDir(dir)) {
    if (e.isDir) files.push(...(await walkFiles(e.path, seen)));
    else files.push(e.path);
  }
  return files;
}

const inside = (path: string, dir: string): boolean => path === dir || path.startsWith(dir + sep);

/**
 * Whether `file` (reached inside a class folder, maybe through symbolic links) really lies in another class's
 * folder or elsewhere in the data set's root: such a link would give those images this class's label. Links to
 * places outside the data set (a shared pool of images) are fine.
 */
async function pointsOutsideClass(file: string, realRoot: string, realClass: string): Promise<boolean> {
  const real = await realpath(file).catch(() => file);
  return inside(real, realRoot) && !inside(real, realClass);
}

const toId = (root: string, path: string): string => relative(root, path).split(sep).join('/');

export async function loadImageFolder(root: string, options: LoadOptions = {}): Promise<ImageDataset> {
  const opts = resolveLoadOptions(options);
  const warn = new WarningCollector(opts.onBadInput, root);
  let entries: Entry[];
  try {
    entries = await listDir(root);
  } catch (e) {
    throw new GraftError('BAD_INPUT', `cannot read dataset folder '${root}'`, { file: root }, { cause: e });
  }
  for (const e of entries) if (!e.isDir) warn.note('IGNORED_FILE', toId(root, e.path));

  const classDirs = entries.filter((e) => e.isDir);
  const byClass = new Map<string, string[]>();
  const realRoot = await realpath(root);
  for (const { path } of classDirs) {
    const name = toId(root, path);
    const realClass = await realpath(path);
    const files = await walkFiles(path);
    const escaping = await mapLimit(files, 8, (f) => pointsOutsideClass(f, realRoot, realClass));
    const images = files.filter((f, i) => {
      if (escaping[i]) {
        warn.bad('LINK_OUTSIDE_CLASS', toId(root, f), "a symbolic link into another class's folder");
        return false;
      }
      if (hasImageExtension(f)) return true;
      warn.note('IGNORED_FILE', toId(root, f));
      return false;
    });
    const problems = await mapLimit(images, 8, (f) => checkImageFile(f, opts.verify));
    const good: string[] = [];
    images.forEach((f, i) => {
      const why = problems[i];
      if (why) warn.bad('BAD_IMAGE', toId(root, f), why);
      else good.push(f);
    });
    if (good.length === 0) warn.bad('EMPTY_CLASS', name, 'class folder has no usable images');
    else byClass.set(name, good);
  }
  if (byClass.size === 0) {
    throw new GraftError(
      'BAD_INPUT',
      `no images found in '${root}': expected one sub-folder per class containing ` +
        `.jpg/.jpeg/.png/.webp/.gif/.tif/.tiff/.bmp files`,
      { file: root },
    );
  }
  const labels = sortLabels(byClass.keys());
  const paths = labels.flatMap((name) => byClass.get(name)!.map((path) => ({ path, name })));
  const hashes = await hashFiles(paths.map((p) => p.path));
  const index = new Map(labels.map((l, i) => [l, i]));
  const examples: Example<string>[] = paths.map(({ path, name }, i) => ({
    id: toId(root, path),
    label: index.get(name)!,
    source: path,
    ...(hashes[i] ? { contentHash: hashes[i] } : {}),
  }));
  const dataset: ImageDataset = { kind: 'image', name: root, labels, examples, warnings: [] };
  noteDuplicates(dataset, warn);
  return { ...dataset, warnings: warn.toArray() };
}
