/**
 * What a scale-out run reads: a CSV/JSONL manifest with a `path` (images, resolved against the manifest's
 * folder) or a `text` column, labels optional; for extraction also anything `graft train` takes that lives
 * in files (an image folder, a labelled manifest). Each input gets its content key (sha256 of its bytes).
 */
import type { DataWarning } from '../data/types.js';
import { readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { parseCsv } from '../data/csv.js';
import { loadDataset } from '../data/load.js';
import { mapLimit } from '../data/verify.js';
import { GraftError } from '../errors.js';
import type { BadInputPolicy, ShardItem } from './jobs.js';
import { modality } from '../modalities/index.js';

export interface InputList {
  kind: 'image' | 'text';
  /** Where they came from (for messages). */
  name: string;
  /** `source` is an absolute path (images) or the text; `id` is what the manifest said. */
  entries: { id: string; source: string }[];
  /** Inputs the data set's loader left out (unusable files or rows), counted; none for a plain manifest. */
  warnings?: readonly DataWarning[];
}

const PATH_COLUMNS = ['path', 'file', 'filename', 'image'];
const MANIFEST_EXTENSIONS = ['.csv', '.jsonl', '.ndjson'];

export const isManifest = (spec: string): boolean =>
  MANIFEST_EXTENSIONS.includes(extname(spec).toLowerCase());

function manifestRows(text: string, jsonl: boolean, file: string): Record<string, unknown>[] {
  if (!jsonl) {
    const records = parseCsv(text);
    const header = (records[0]?.fields ?? []).map((h) => h.trim().toLowerCase());
    return records.slice(1).map((r) => Object.fromEntries(header.map((h, i) => [h, r.fields[i]])));
  }
  return text.split(/\r?\n/).flatMap((raw, i) => {
    if (raw.trim() === '') return [];
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      throw new GraftError('BAD_INPUT', `${file}:${i + 1} is not valid JSON`, { file, line: i + 1 });
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw new GraftError('BAD_INPUT', `${file}:${i + 1} is not a JSON object`, { file, line: i + 1 });
    return [Object.fromEntries(Object.entries(v).map(([k, x]) => [k.toLowerCase(), x]))];
  });
}

/** A manifest of inputs to predict or extract: one row per input, in order; labels are not needed. */
export async function readManifestInputs(file: string): Promise<InputList> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new GraftError('BAD_INPUT', `cannot read manifest '${file}'`, { file }, { cause: e });
  }
  const rows = manifestRows(text, extname(file).toLowerCase() !== '.csv', file);
  const keys = new Set(rows.flatMap((r) => Object.keys(r)));
  const pathKey = PATH_COLUMNS.find((k) => keys.has(k));
  const column = pathKey ?? (keys.has('text') ? 'text' : undefined);
  if (!column)
    throw new GraftError('BAD_INPUT', `manifest '${file}' needs a 'path' (images) or 'text' column`, {
      file,
      columns: [...keys],
    });
  const base = dirname(resolve(file));
  const entries = rows.map((r, i) => {
    const v = r[column];
    const s = typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
    if (s === undefined || s.trim() === '')
      throw new GraftError('BAD_INPUT', `manifest '${file}' row ${i + 1} has no ${column}`, {
        file,
        row: i + 1,
      });
    if (!pathKey) return { id: s, source: s };
    const p = s.trim();
    return { id: p, source: isAbsolute(p) ? p : resolve(base, p) };
  });
  if (entries.length === 0) throw new GraftError('BAD_INPUT', `manifest '${file}' has no rows`, { file });
  return { kind: pathKey ? 'image' : 'text', name: file, entries };
}

/** Inputs for `graft extract`: a manifest (labels optional), or an image folder / labelled data set of files. */
export async function readExtractInputs(spec: string, onBadInput: BadInputPolicy): Promise<InputList> {
  if (isManifest(spec)) return readManifestInputs(spec);
  const ds = await loadDataset(spec, { onBadInput });
  if (ds.kind === 'text')
    return {
      kind: 'text',
      name: ds.name,
      entries: ds.examples.map((e) => ({ id: e.id, source: e.source })),
      warnings: ds.warnings,
    };
  const entries = ds.examples.map((e) => {
    if (typeof e.source !== 'string')
      throw new GraftError(
        'BAD_OPTION',
        `'${spec}' holds images in memory, not files; graft extract and its workers read files ` +
          `(graft train ${spec} extracts it directly)`,
      );
    return { id: e.id, source: e.source };
  });
  return { kind: 'image', name: ds.name, entries, warnings: ds.warnings };
}

/**
 * Content keys: sha256 of each file's bytes (read 16 at a time), or of the text. Unreadable files are
 * skipped and reported under `skip`, a BAD_INPUT naming the file under `fail`.
 */
export async function keyInputs(
  list: InputList,
  onBadInput: BadInputPolicy,
): Promise<{ items: ShardItem[]; entryIndex: number[]; unreadable: Map<number, string> }> {
  const unreadable = new Map<number, string>();
  const keys = await mapLimit(
    list.entries.map((e, i) => [e, i] as const),
    16,
    async ([e, i]) => {
      try {
        return await modality(list.kind).inputKey(e.source);
      } catch (err) {
        const reason = `cannot read '${e.source}': ${err instanceof Error ? err.message : String(err)}`;
        if (onBadInput === 'fail')
          throw new GraftError('BAD_INPUT', reason, { file: e.source }, { cause: err });
        unreadable.set(i, reason);
        return undefined;
      }
    },
  );
  const entryIndex = list.entries.flatMap((_, i) => (keys[i] ? [i] : []));
  const items = entryIndex.map((i) => ({
    id: list.entries[i]!.id,
    key: keys[i]!,
    source: list.entries[i]!.source,
  }));
  return { items, entryIndex, unreadable };
}
