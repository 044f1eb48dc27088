/** One entry point for every dataset form: builtin names, image folders, CSV / JSONL manifests. */
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { GraftError } from '../errors.js';
import { loadMnist } from './builtin-mnist.js';
import { loadSpamAssassin } from './builtin-spam.js';
import { loadImageFolder } from './image-folder.js';
import { loadManifest } from './manifest.js';
import type { Dataset, LoadOptions } from './types.js';

/** Builtin dataset names (each also accepted with a `builtin:` prefix). */
export const BUILTIN_DATASETS: Readonly<Record<string, () => Dataset>> = {
  mnist: loadMnist,
  'spam-assassin': loadSpamAssassin,
};

export const ACCEPTED_FORMS =
  `a builtin name (${Object.keys(BUILTIN_DATASETS).join(', ')}, optionally prefixed 'builtin:'), ` +
  `a directory with one sub-folder per class, a .csv manifest or a .jsonl manifest ` +
  `(columns path,label or text,label)`;

/**
 * Loads a dataset from a string: `mnist` / `builtin:mnist`, `spam-assassin`, a directory (image folder),
 * a `.csv` or a `.jsonl` / `.ndjson` manifest. Anything else is GraftError('BAD_INPUT') listing the accepted forms.
 */
export async function loadDataset(spec: string, options: LoadOptions = {}): Promise<Dataset> {
  const name = spec.trim();
  const builtin = name.startsWith('builtin:') ? name.slice('builtin:'.length) : name;
  const loader = Object.hasOwn(BUILTIN_DATASETS, builtin) ? BUILTIN_DATASETS[builtin] : undefined;
  if (loader) return loader();
  if (name.startsWith('builtin:')) {
    throw new GraftError('BAD_INPUT', `unknown builtin dataset '${builtin}'; accepted: ${ACCEPTED_FORMS}`, {
      spec,
    });
  }
  if (name === '')
    throw new GraftError('BAD_INPUT', `no dataset given; accepted: ${ACCEPTED_FORMS}`, { spec });
  const st = await stat(name).catch(() => undefined);
  if (!st) {
    throw new GraftError(
      'BAD_INPUT',
      `dataset '${name}' is not a builtin name and does not exist; accepted: ${ACCEPTED_FORMS}`,
      {
        spec,
      },
    );
  }
  if (st.isDirectory()) return loadImageFolder(name, options);
  const ext = extname(name).toLowerCase();
  if (ext === '.csv' || ext === '.jsonl' || ext === '.ndjson') return loadManifest(name, options);
  throw new GraftError(
    'BAD_INPUT',
    `cannot tell what kind of dataset '${name}' is; accepted: ${ACCEPTED_FORMS}`,
    { spec },
  );
}
