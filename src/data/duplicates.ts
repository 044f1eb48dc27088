/**
 * Identical examples: files with the same bytes (sha256), texts with the same characters. Copies under
 * different labels are label noise, and copies on both sides of a split leak training data into evaluation; both
 * are reported by name, and `stratifiedSplit` keeps copies together.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Dataset, Example } from './types.js';
import { mapLimit } from './verify.js';
import type { WarningCollector } from './warnings.js';

/** sha256 of each file (undefined where it cannot be read: later checks name that file). */
export function hashFiles(paths: readonly string[]): Promise<(string | undefined)[]> {
  return mapLimit(paths, 8, async (p) => {
    try {
      return createHash('sha256')
        .update(await readFile(p))
        .digest('hex');
    } catch {
      return undefined;
    }
  });
}

/** What makes two examples the same: their file's hash, or their text. */
export function contentKey(ds: Dataset, e: Example<unknown>): string | undefined {
  if (e.contentHash) return e.contentHash;
  return ds.kind === 'text' && typeof e.source === 'string' ? `text:${e.source}` : undefined;
}

/** Groups of example indices with the same content (two or more each), in dataset order. */
export function duplicateGroups(ds: Dataset): number[][] {
  const byKey = new Map<string, number[]>();
  ds.examples.forEach((e, i) => {
    const key = contentKey(ds, e);
    if (key === undefined) return;
    const group = byKey.get(key);
    if (group) group.push(i);
    else byKey.set(key, [i]);
  });
  return [...byKey.values()].filter((g) => g.length > 1);
}

/** Notes DUPLICATE (same label) and CONFLICTING_DUPLICATE (different labels) warnings naming the copies. */
export function noteDuplicates(ds: Dataset, warn: WarningCollector): void {
  for (const group of duplicateGroups(ds)) {
    const labels = new Set(group.map((i) => ds.examples[i]!.label));
    const names = group.map((i) => {
      const e = ds.examples[i]!;
      return labels.size > 1 ? `${e.id} [${ds.labels[e.label]}]` : e.id;
    });
    warn.note(labels.size > 1 ? 'CONFLICTING_DUPLICATE' : 'DUPLICATE', names.join(' = '));
  }
}
