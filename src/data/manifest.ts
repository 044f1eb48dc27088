/**
 * CSV and JSONL manifests. The header (CSV) or the keys (JSONL) decide the kind:
 * `path,label` (also `file`/`filename`/`image`) gives an image dataset, paths resolved against the manifest's
 * folder; `text,label` gives a text dataset. `class` is accepted for `label`. Labels may be names or numbers.
 * Unlabelled manifests (`loadUnlabeledManifest`, e.g. distillation's transfer set) need only the `path` or `text`
 * column: a label column, if any, is ignored, and every example gets label -1 (the dataset has no labels).
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, resolve } from 'node:path';
import { GraftError } from '../errors.js';
import { parseCsv } from './csv.js';
import { resolveLoadOptions, sortLabels, type Dataset, type Example, type LoadOptions } from './types.js';
import { checkImageFile, mapLimit } from './verify.js';
import { hashFiles, noteDuplicates } from './duplicates.js';
import { WarningCollector } from './warnings.js';

function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

const PATH_COLUMNS = ['path', 'file', 'filename', 'image'];
const LABEL_COLUMNS = ['label', 'class'];

interface Row {
  readonly values: Readonly<Record<string, unknown>>;
  readonly line: number;
}

function readJsonl(text: string, file: string, warn: WarningCollector): { rows: Row[]; keys: string[] } {
  const rows: Row[] = [];
  const keys = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      warn.bad('BAD_ROW', `${basename(file)}:${i + 1}`, 'not valid JSON');
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      warn.bad('BAD_ROW', `${basename(file)}:${i + 1}`, 'not a JSON object');
      return;
    }
    for (const k of Object.keys(value)) keys.add(k.toLowerCase());
    const lower = Object.fromEntries(Object.entries(value).map(([k, v]) => [k.toLowerCase(), v]));
    rows.push({ values: lower, line: i + 1 });
  });
  return { rows, keys: [...keys] };
}

function readCsvRows(text: string): { rows: Row[]; keys: string[] } {
  const records = parseCsv(text);
  if (records.length === 0) return { rows: [], keys: [] };
  const header = records[0]!.fields.map((h) => h.trim().toLowerCase());
  const rows = records.slice(1).map((r) => ({
    values: Object.fromEntries(header.map((h, i) => [h, r.fields[i]])),
    line: r.line,
  }));
  return { rows, keys: header };
}

/** The label placeholder of an unlabelled manifest's rows (never a class: such a dataset has none). */
const UNLABELLED = '\u0000unlabelled';

const asText = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;

/** A labelled manifest: every row needs a label. */
export function loadManifest(file: string, options: LoadOptions = {}): Promise<Dataset> {
  return readManifestFile(file, options, true);
}

/**
 * An unlabelled manifest: a `text` (or `path`) column, no label needed (one given is ignored); examples carry
 * label -1 and the dataset's `labels` is empty. Rows with an empty text or path are counted BAD_ROW warnings.
 */
export function loadUnlabeledManifest(file: string, options: LoadOptions = {}): Promise<Dataset> {
  return readManifestFile(file, options, false);
}

async function readManifestFile(file: string, options: LoadOptions, labelled: boolean): Promise<Dataset> {
  const opts = resolveLoadOptions(options);
  const warn = new WarningCollector(opts.onBadInput, file);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new GraftError('BAD_INPUT', `cannot read manifest '${file}'`, { file }, { cause: e });
  }
  const text = new TextDecoder('utf-8').decode(bytes);
  // Invalid UTF-8 decodes to U+FFFD: in a file that is not valid UTF-8, rows holding one are unusable
  // (their text would be mojibake, their labels class names like 'caf\ufffd').
  const mangled = !isValidUtf8(bytes);
  const jsonl = ['.jsonl', '.ndjson'].includes(extname(file).toLowerCase());
  const { rows, keys } = jsonl ? readJsonl(text, file, warn) : readCsvRows(text);
  if (keys.length === 0)
    throw new GraftError('BAD_INPUT', `manifest '${file}' is empty (no header or rows)`, { file });
  const labelKey = labelled ? LABEL_COLUMNS.find((k) => keys.includes(k)) : undefined;
  const pathKey = PATH_COLUMNS.find((k) => keys.includes(k));
  const textKey = keys.includes('text') ? 'text' : undefined;
  const sourceKey = pathKey ?? textKey;
  if (!labelled && !sourceKey)
    throw new GraftError(
      'BAD_INPUT',
      `unlabelled manifest '${file}' needs a 'text' column (or 'path' for images); found: ${keys.join(', ')}`,
      { file, columns: keys },
    );
  if (!sourceKey || (labelled && !labelKey)) {
    throw new GraftError(
      'BAD_INPUT',
      `manifest '${file}' needs a 'label' column and a 'path' (images) or 'text' column; found: ` +
        keys.join(', '),
      { file, columns: keys },
    );
  }
  const kind = pathKey ? 'image' : 'text';
  const where = (r: Row): string => `${basename(file)}:${r.line}`;
  const good: { row: Row; source: string; label: string }[] = [];
  for (const row of rows) {
    const source = asText(row.values[sourceKey]);
    const rawLabel = labelKey ? asText(row.values[labelKey]) : '';
    const label = labelKey ? rawLabel?.trim() : UNLABELLED;
    if (source === undefined || source.trim() === '' || !label) {
      const blank = !label && rawLabel !== undefined && rawLabel !== '';
      const why = blank ? `${labelKey} is only whitespace` : `missing ${!label ? labelKey : sourceKey}`;
      warn.bad('BAD_ROW', where(row), why);
      continue;
    }
    if (mangled && (source.includes('\ufffd') || label.includes('\ufffd'))) {
      warn.bad('BAD_ROW', where(row), 'not valid UTF-8 (save the manifest as UTF-8)');
      continue;
    }
    good.push({ row, source: kind === 'image' ? source.trim() : source, label });
  }

  const base = dirname(resolve(file));
  let usable = good;
  if (kind === 'image') {
    const paths = good.map((g) => (isAbsolute(g.source) ? g.source : resolve(base, g.source)));
    const problems = await mapLimit(paths, 8, (p) => checkImageFile(p, opts.verify));
    usable = [];
    good.forEach((g, i) => {
      const why = problems[i];
      if (why === 'no such file') warn.bad('MISSING_FILE', `${where(g.row)} ${g.source}`, why);
      else if (why) warn.bad('BAD_IMAGE', `${where(g.row)} ${g.source}`, why);
      else usable.push({ ...g, source: paths[i]! });
    });
  }
  if (usable.length === 0)
    throw new GraftError('BAD_INPUT', `manifest '${file}' has no usable rows`, { file });

  const labels = labelled ? sortLabels(usable.map((u) => u.label)) : [];
  const index = new Map(labels.map((l, i) => [l, i]));
  const hashes = kind === 'image' ? await hashFiles(usable.map((u) => u.source)) : [];
  const examples: Example<string>[] = usable.map((u, i) => ({
    id: kind === 'image' ? (asText(u.row.values[sourceKey]) ?? '').trim() : where(u.row),
    label: index.get(u.label) ?? -1,
    source: u.source,
    ...(hashes[i] ? { contentHash: hashes[i] } : {}),
  }));
  const dataset: Dataset = { kind, name: file, labels, examples, warnings: [] };
  noteDuplicates(dataset, warn);
  return { ...dataset, warnings: warn.toArray() };
}
