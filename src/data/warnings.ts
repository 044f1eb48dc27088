/** Collects counted warnings while loading, and applies the skip/fail policy in one place. */
import { GraftError } from '../errors.js';
import type { BadInputPolicy, DataWarning, DataWarningCode } from './types.js';

/** How many offending items each warning lists (the count is always exact). */
export const WARNING_ITEMS_SHOWN = 20;

const DESCRIPTIONS: Record<DataWarningCode, string> = {
  EMPTY_CLASS: 'class folders with no images (left out of the labels)',
  IGNORED_FILE: 'files ignored (not a recognised image extension, or outside a class folder)',
  BAD_IMAGE: 'image files that are empty, truncated or not images (skipped)',
  MISSING_FILE: 'manifest rows whose file does not exist (skipped)',
  BAD_ROW: 'manifest rows that could not be used (skipped)',
  SINGLETON_CLASS: 'classes with a single example (kept in train only)',
  TOO_FEW_SHOTS: 'classes with fewer examples than requested shots (all taken)',
  STUDENT_LARGER: 'distillation students with more parameters than their teacher (trained as asked)',
  LINK_OUTSIDE_CLASS:
    "symbolic links in a class folder that point into another class's folder (skipped: they would relabel those images)",
  DUPLICATE: 'identical copies within a class (kept together in one split, so none leaks into evaluation)',
  CONFLICTING_DUPLICATE:
    'identical copies under different labels (label noise; all copies kept in the training split only)',
  NO_HELD_OUT:
    'classes too small for a held-out example (trained on all of it: there is too little data for an honest held-out figure)',
};

/** Codes that mean an input was left out (the CLI's one-line summary counts these). */
export const SKIP_CODES: ReadonlySet<DataWarningCode> = new Set([
  'EMPTY_CLASS',
  'BAD_IMAGE',
  'MISSING_FILE',
  'BAD_ROW',
  'LINK_OUTSIDE_CLASS',
]);

/** Inputs the feature extractor could not decode (truncated, corrupt, over the pixel budget) as one warning. */
export function unreadableWarning(skipped: readonly { id: string; reason: string }[]): DataWarning[] {
  if (skipped.length === 0) return [];
  return [
    {
      code: 'BAD_IMAGE',
      message: `${skipped.length} image files that could not be decoded (skipped)`,
      count: skipped.length,
      items: skipped.slice(0, WARNING_ITEMS_SHOWN).map((s) => `${s.id} (${s.reason})`),
    },
  ];
}

export class WarningCollector {
  private readonly byCode = new Map<DataWarningCode, string[]>();

  constructor(
    private readonly policy: BadInputPolicy = 'skip',
    private readonly source = '',
  ) {}

  /** Records a harmless oddity (e.g. a README in a class folder); never throws. */
  note(code: DataWarningCode, item: string): void {
    let list = this.byCode.get(code);
    if (!list) this.byCode.set(code, (list = []));
    list.push(item);
  }

  /** Records unusable input: throws GraftError('BAD_INPUT') under the 'fail' policy, otherwise notes it. */
  bad(code: DataWarningCode, item: string, why: string): void {
    if (this.policy === 'fail') {
      const where = this.source ? ` in ${this.source}` : '';
      throw new GraftError('BAD_INPUT', `${item}: ${why}${where} (use onBadInput 'skip' to leave it out)`, {
        file: item,
        code,
        source: this.source,
      });
    }
    this.note(code, `${item} (${why})`);
  }

  toArray(): DataWarning[] {
    return [...this.byCode].map(([code, items]) => ({
      code,
      message: `${items.length} ${DESCRIPTIONS[code]}`,
      count: items.length,
      items: items.slice(0, WARNING_ITEMS_SHOWN),
    }));
  }
}

/** Merges warning lists, adding counts of the same code together. */
export function mergeWarnings(...lists: readonly (readonly DataWarning[])[]): DataWarning[] {
  const out = new Map<DataWarningCode, { count: number; items: string[] }>();
  for (const list of lists)
    for (const w of list) {
      const m = out.get(w.code) ?? { count: 0, items: [] };
      m.count += w.count;
      m.items.push(...w.items);
      out.set(w.code, m);
    }
  return [...out].map(([code, m]) => ({
    code,
    message: `${m.count} ${DESCRIPTIONS[code]}`,
    count: m.count,
    items: m.items.slice(0, WARNING_ITEMS_SHOWN),
  }));
}
