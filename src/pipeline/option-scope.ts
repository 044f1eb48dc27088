/**
 * Which training options a run can honour (the table in option-rules.ts): an option given to a run that would drop
 * it is refused with BAD_OPTION saying why and what to use instead. Options are named as `graft train` names them
 * (camelCase of the flag); the library entry points map their own spellings onto these names (train-text.ts,
 * finetune.ts) so the CLI and the library refuse the same things with the same words.
 */
import { GraftError } from '../errors.js';
import { RULES, shapeOf, type RunShape } from './option-rules.js';

export type { RunShape } from './option-rules.js';

/** The option names this table knows (the keys a caller may report as given). */
export const SCOPED_OPTIONS: readonly string[] = Object.keys(RULES);

/** One option a run may drop: its flag, and why a run of shape S would drop the value given (undefined: it applies). */
export interface OptionRule<S> {
  flag: string;
  rule: (s: S, value: unknown) => string | undefined;
}

/**
 * Refuses, with one BAD_OPTION naming every flag and why, the given options that a run of shape `shape` would drop
 * by `rules` (a table of option name → rule; `graft train`'s is option-rules.ts, `graft distill`'s
 * distill/option-rules.ts). `given`: option name → value, only for options the caller actually set.
 */
export function refuseByRules<S>(
  rules: Readonly<Record<string, OptionRule<S>>>,
  shape: S,
  given: Readonly<Record<string, unknown>>,
): void {
  const byReason = new Map<string, string[]>();
  for (const [name, value] of Object.entries(given)) {
    const entry = Object.hasOwn(rules, name) ? rules[name] : undefined;
    if (!entry || value === undefined) continue;
    const why = entry.rule(shape, value);
    if (why === undefined) continue;
    byReason.set(why, [...(byReason.get(why) ?? []), entry.flag]);
  }
  if (byReason.size === 0) return;
  const flags = [...byReason.values()].flat();
  throw new GraftError('BAD_OPTION', [...byReason].map(([why, f]) => `${f.join(', ')}: ${why}`).join('; '), {
    option: flags.join(','),
  });
}

/** Refuses the given training options a run of this shape would drop (the table in option-rules.ts). */
export function refuseUnusedOptions(run: RunShape, given: Readonly<Record<string, unknown>>): void {
  refuseByRules(RULES, shapeOf(run), given);
}

/** The entries of `o` named in `keys` that were set: neither undefined nor `false` (an unset switch). */
export function givenOptions(
  o: Readonly<Record<string, unknown>>,
  keys: readonly string[] = Object.keys(o),
): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined && o[k] !== false).map((k) => [k, o[k]]));
}

/**
 * The library's fine-tuning options that some recipe drops (`fineTuneClassifier`): checked against the recipe
 * asked for, whichever it is, as the CLI checks its flags.
 */
export const RECIPE_OPTIONS: readonly string[] = [
  'unfreeze',
  'bnMode',
  'layerwiseLrDecay',
  'freezeEpochs',
  'clipGradNorm',
  'accumulateSteps',
  'saveSteps',
  'saveTotalLimit',
  'resume',
  'augment',
  'patience',
];

/** The head-fitting options of `trainClassifier` that some head drops (checked against the head asked for). */
export const HEAD_FIT_OPTIONS: readonly string[] = [
  'hidden',
  'dropout',
  'k',
  'epochs',
  'lr',
  'batchSize',
  'optimizer',
  'weightDecay',
  'labelSmoothing',
  'patience',
  'budget',
];
