/**
 * Encoding speed on the spam-assassin e-mails, ms per e-mail, in one process with alternating rounds:
 *  - twice:   what encodeText did before the prefix cut (whole text with special tokens, then again without
 *             them to find the content when it is too long), then truncation;
 *  - once:    the whole text tokenized once, then truncated (the best whole-text equivalent);
 *  - prefix:  encodeText (tokenizes up to a safe cut, grown until it has enough tokens).
 * Every side's output is checked equal to `once` before timing.
 *
 *   node --import tsx bench/tokenize-speed.ts [--tokenizer DIR] [--max-length 128] [--every 4] [--rounds 3]
 *                                            [--guess 6]   (characters a token for the first cut; 0: default)
 */
import { existsSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { loadSpamAssassin } from '../src/data/builtin-spam.js';
import { encodeText, encodeTextGuessing, type EncodedText } from '../src/text/encode.js';
import { loadTokenizer, type TextTokenizer } from '../src/text/tokenizer.js';
import { arg } from './text-common.js';
import { alternate, pairedRatios, showSpread } from './util/rounds.js';

const FIXTURE = new URL('../test/fixtures/bert/tiny-bert', import.meta.url).pathname;
const dir = arg(
  'tokenizer',
  existsSync('/work/artifacts/spam-bert6') ? '/work/artifacts/spam-bert6' : FIXTURE,
);
const maxLength = arg('max-length', 128);
const every = arg('every', 4);
const rounds = arg('rounds', 3);
const guess = arg('guess', 0);

/** The encoding before the prefix cut: the whole text twice when it is too long. */
function twice(tok: TextTokenizer, text: string, max: number): EncodedText {
  const full = tok.tokenizer.encode(text, { return_token_type_ids: true });
  const types = full.token_type_ids ?? full.ids.map(() => 0);
  if (full.ids.length <= max) return { ids: full.ids, typeIds: types, truncated: false };
  const content = tok.tokenizer.encode(text, { add_special_tokens: false }).ids;
  const specials = full.ids.length - content.length;
  let p = 0;
  while (p < specials && full.ids[p] !== content[0]) p++;
  const tail = p + content.length;
  const pick = (xs: number[]): number[] => [...xs.slice(0, p + max - specials), ...xs.slice(tail)];
  return { ids: pick(full.ids), typeIds: pick(types), truncated: true };
}

/** The whole text once, then truncated with the tokenizer's known special-token layout. */
function once(tok: TextTokenizer, text: string, max: number): EncodedText {
  const e = tok.tokenizer.encode(text, { return_token_type_ids: true });
  const types = e.token_type_ids ?? e.ids.map(() => 0);
  if (e.ids.length <= max) return { ids: e.ids, typeIds: types, truncated: false };
  const { after } = tok.specials;
  const pick = (xs: number[]): number[] => [...xs.slice(0, max - after), ...xs.slice(xs.length - after)];
  return { ids: pick(e.ids), typeIds: pick(types), truncated: true };
}

const tok = await loadTokenizer(dir);
const prefix = (t: TextTokenizer, text: string, max: number): EncodedText =>
  guess > 0 ? encodeTextGuessing(t, text, max, guess) : encodeText(t, text, max);
const texts = loadSpamAssassin()
  .examples.filter((_, i) => i % every === 0)
  .map((e) => e.source);
const chars = texts.reduce((a, t) => a + t.length, 0);
console.log(
  `${texts.length} e-mails (every ${every}th, ${(chars / texts.length).toFixed(0)} chars on average), ` +
    `tokenizer ${dir} (cut: ${tok.prefixCut.cut?.basis ?? 'none, ' + tok.prefixCut.reason}), maxLength ${maxLength}`,
);
for (const t of texts) {
  const want = once(tok, t, maxLength);
  if (
    !isDeepStrictEqual(prefix(tok, t, maxLength), want) ||
    !isDeepStrictEqual(twice(tok, t, maxLength), want)
  )
    throw new Error(`encodings differ on ${JSON.stringify(t.slice(0, 80))}`);
}
const time = (f: typeof once) => (): number => {
  const t0 = performance.now();
  for (const t of texts) f(tok, t, maxLength);
  return (performance.now() - t0) / texts.length;
};
const res = await alternate(
  rounds,
  { twice: time(twice), once: time(once), prefix: time(prefix) },
  (r, got) =>
    console.log(
      `round ${r + 1}: twice ${got.twice.toFixed(2)}, once ${got.once.toFixed(2)}, prefix ${got.prefix.toFixed(3)} ms/e-mail`,
    ),
);
console.log(
  `ms per e-mail, median (min–max) over ${rounds} rounds: twice ${showSpread(res.twice)}, once ${showSpread(res.once)}, ` +
    `prefix ${showSpread(res.prefix)}; speed-up per round vs twice ${showSpread(pairedRatios(res.twice, res.prefix))}, ` +
    `vs once ${showSpread(pairedRatios(res.once, res.prefix))}`,
);
