/**
 * encodeText tokenizes a long text only up to a safe cut: for every kind of tokenizer, on real e-mails and on
 * adversarial strings, its output must equal tokenizing the whole text and truncating it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { loadSpamAssassin } from '../../src/data/builtin-spam.js';
import { encodeText, encodeTextGuessing, type EncodedText } from '../../src/text/encode.js';
import { findCut, prefixCutFor } from '../../src/text/prefix-cut.js';
import { loadTokenizer, type TextTokenizer } from '../../src/text/tokenizer.js';
import { BERT_DIR, tempDir } from './helpers.js';
import {
  byteLevelBpe,
  metaspaceBpe,
  unigramMetaspace,
  wordPiece,
  writeTokenizer,
} from './tokenizer-kinds.js';

/**
 * The reference: the whole text tokenized (with and without special tokens), then for any maxLength its
 * content cut to what fits and the post-processor's tokens kept.
 */
function wholeThenTruncate(tok: TextTokenizer, text: string): (maxLength: number) => EncodedText {
  const full = tok.tokenizer.encode(text, { return_token_type_ids: true });
  const types = full.token_type_ids ?? full.ids.map(() => 0);
  // Where the post-processor puts the text, and how many tokens it adds: a sentinel token's place.
  const template = tok.tokenizer.post_processor?.post_process(['\u0000text'], null, true).tokens ?? [
    '\u0000text',
  ];
  const at = template.indexOf('\u0000text');
  const content = full.ids.slice(at, at + full.ids.length - (template.length - 1));
  return (maxLength) => {
    if (full.ids.length <= maxLength) return { ids: full.ids, typeIds: types, truncated: false };
    const keep = maxLength - (full.ids.length - content.length);
    const cut = (xs: number[]): number[] => [
      ...xs.slice(0, at),
      ...xs.slice(at, at + keep),
      ...xs.slice(at + content.length),
    ];
    return { ids: cut(full.ids), typeIds: cut(types), truncated: true };
  };
}

/** The library overflows its stack on some very long single pieces (Unigram): no reference for those. */
function referenceOrNone(tok: TextTokenizer, text: string): ((maxLength: number) => EncodedText) | undefined {
  try {
    return wholeThenTruncate(tok, text);
  } catch (e) {
    if (e instanceof RangeError) return undefined;
    throw e;
  }
}

const emails = loadSpamAssassin().examples.map((e) => e.source);
const longest = [...emails].sort((a, b) => b.length - a.length).slice(4, 7);
const corpus = [...emails.filter((_, i) => i % 80 === 7), ...longest];
const sample = emails.filter((_, i) => i % 150 === 3).map((t) => t.slice(0, 3000));

const adversarial: string[] = [
  'x'.repeat(6000),
  'http://example.com/' + 'AbC9+/'.repeat(1500),
  'abc '.repeat(300) + ' '.repeat(3000) + 'tail words here',
  ('word' + ' '.repeat(50)).repeat(120),
  'Hello.\n\nWorld!\n\n'.repeat(300),
  'a.\n\n\nb\t\tc\r\n'.repeat(400),
  ' \n \n\t'.repeat(500) + 'end',
  '我们的模型在这里。'.repeat(400),
  'CJK 文本 mixed with English words 한국어 テキスト '.repeat(150),
  'café naïve résumé Ünïcödé Ωμέγα ΟΔΟΣ ΣΟΦΟΣ İstanbul straße ﬁne ① ㎏ '.repeat(120),
  'e\u0301 a\u0308 \u0301x o\u0308\u0301 '.repeat(500),
  '😀 🎉 hello 👍🏽 family👨‍👩‍👧 '.repeat(250),
  'word\u00a0word\u3000x\u2581y \u0001z \uFFFD \u200b zero\u200bwidth \u0085 '.repeat(200),
  'a '.repeat(380) + 'b'.repeat(3000) + ' c'.repeat(300),
  'a '.repeat(700) + 'supercalifragilisticexpialidocious'.repeat(5) + ' end'.repeat(100),
  '[CLS] <s> </s> [SEP] [MASK] <unk> [UNK] '.repeat(150),
  '<0x41> ▁▁ ▁x ##ing Ġthe '.repeat(200),
  'ΣΑΣ Σ ΌΣΟΣ ΣΣ'.repeat(300),
  '',
  ' ',
  'short text',
];

const LENGTHS = [16, 64, 128, 512];
const GUESSES = [0.5, 1.5, 3];
/** Texts for the cut-at-the-boundary sweeps: e-mails and the adversarial strings, first 3,000 characters. */
const boundaryTexts = [...emails.filter((_, i) => i % 600 === 11), ...adversarial].map((t) =>
  t.slice(0, 3000),
);
const sweepLengths = (tok: TextTokenizer): number[] =>
  [...Array.from({ length: 30 }, (_, i) => i + 1), 36, 42, 48].filter(
    (n) => n > tok.specials.before + tok.specials.after,
  );

/** `tok` whose encode records, for every prefix of `text` it is given, its tokens minus maxLength. */
function spyOn(tok: TextTokenizer, text: string, maxLength: number, counts: Set<number>): TextTokenizer {
  const encode = tok.tokenizer.encode.bind(tok.tokenizer);
  return {
    ...tok,
    tokenizer: Object.assign(Object.create(tok.tokenizer) as typeof tok.tokenizer, {
      encode: (t: string, o?: Parameters<typeof encode>[1]) => {
        const e = encode(t, o);
        if (t.length < text.length) counts.add(e.ids.length - maxLength);
        return e;
      },
    }),
  };
}

interface Kind {
  name: string;
  dir: () => Promise<string>;
  cut: boolean;
}

describe('prefix tokenization equals whole-text tokenization then truncation', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    tmp = await tempDir('graft-prefix-cut-');
  });
  after(async () => {
    await tmp[Symbol.asyncDispose]();
  });
  const at = (name: string, json: Record<string, unknown>) => () => writeTokenizer(join(tmp.dir, name), json);
  const kinds: Kind[] = [
    { name: 'tiny BERT fixture (WordPiece)', dir: () => Promise.resolve(BERT_DIR), cut: true },
    {
      name: 'WordPiece, BERT normalizer and pre-tokenizer',
      dir: at('wp-bert', wordPiece(sample)),
      cut: true,
    },
    {
      name: 'WordPiece, NFKC + lowercase + Whitespace',
      dir: at(
        'wp-ws',
        wordPiece(
          sample,
          {
            type: 'Sequence',
            normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }, { type: 'StripAccents' }],
          },
          { type: 'Whitespace' },
        ),
      ),
      cut: true,
    },
    {
      name: 'WordPiece, WhitespaceSplit + Punctuation + Digits',
      dir: at(
        'wp-split',
        wordPiece(
          sample,
          { type: 'Lowercase' },
          {
            type: 'Sequence',
            pretokenizers: [
              { type: 'WhitespaceSplit' },
              { type: 'Punctuation', behavior: 'Isolated' },
              { type: 'Digits', individual_digits: true },
            ],
          },
        ),
      ),
      cut: true,
    },
    { name: 'byte-level BPE (RoBERTa)', dir: at('bytelevel', byteLevelBpe(sample)), cut: true },
    { name: 'Unigram + Metaspace (T5)', dir: at('unigram', unigramMetaspace(sample)), cut: true },
    {
      name: 'BPE on ▁-joined text, byte fallback (Llama)',
      dir: at('llama', metaspaceBpe(sample)),
      cut: true,
    },
    {
      name: 'GPT-4-style Split + ByteLevel without regex',
      dir: at('split', byteLevelBpe(sample, 400, false)),
      cut: false,
    },
    {
      name: 'Unigram with a piece across ▁',
      dir: at('unigram-across', unigramMetaspace(sample, ['e\u2581t', 'm\u2581'])),
      cut: false,
    },
    {
      name: 'BPE on ▁-joined text with a ▁▁ token',
      dir: at('llama-across', metaspaceBpe(sample, 400, ['\u2581\u2581'])),
      cut: false,
    },
    {
      name: 'WordPiece without a pre-tokenizer',
      dir: at('wp-none', wordPiece(sample, { type: 'Lowercase' }, null)),
      cut: false,
    },
  ];

  for (const kind of kinds)
    test(kind.name, async () => {
      const tok = await loadTokenizer(await kind.dir());
      assert.equal(tok.prefixCut.cut !== undefined, kind.cut, tok.prefixCut.reason);
      let truncated = 0;
      let unreferenced = 0;
      // Without a cut encodeText is the whole-text tokenization itself: a few e-mails suffice there.
      for (const text of [...(kind.cut ? corpus : corpus.slice(0, 12)), ...adversarial]) {
        const want = referenceOrNone(tok, text);
        if (want === undefined) unreferenced++;
        // Without a cut encodeText is the reference's own whole-text tokenization: two lengths suffice.
        for (const n of kind.cut ? LENGTHS : [16, 128]) {
          if (want === undefined) {
            // Still a valid encoding of the right length where a cut applies, the library's failure otherwise.
            if (kind.cut) assert.equal(encodeText(tok, text, n).ids.length, n);
            else assert.throws(() => encodeText(tok, text, n), RangeError);
            continue;
          }
          const got = encodeText(tok, text, n);
          assert.deepEqual(got, want(n), `maxLength ${n}: ${JSON.stringify(text.slice(0, 80))}`);
          if (got.truncated) truncated++;
        }
      }
      assert.ok(unreferenced <= 4, `${unreferenced} texts without a reference`);
      assert.ok(truncated >= (kind.cut ? 100 : 0), `${truncated} truncated`);
    });

  test('maxLength hit exactly, and prefixes yielding keep, keep+1 and keep+2 tokens (every kind with a cut)', async () => {
    const long = emails.find((t) => t.length > 20000)!;
    const words = long.split(' ');
    for (const kind of kinds.filter((k) => k.cut)) {
      const tok = await loadTokenizer(await kind.dir());
      // Whole texts of exactly maxLength−1 … maxLength+2 tokens.
      for (let k = 1; k < 120; k += 3) {
        const text = words.slice(0, k).join(' ');
        const want = wholeThenTruncate(tok, text);
        const total = tok.tokenizer.encode(text).ids.length;
        for (let n = Math.max(total - 2, 3); n <= total + 1; n++)
          assert.deepEqual(encodeText(tok, text, n), want(n), `${kind.name}, ${k} words, maxLength ${n}`);
      }
      // Cuts whose prefix has just too few, or just enough, tokens: first guesses of ½, 1½ and 3 characters a
      // token, every maxLength up to 30 and a few to 48, so that the cut falls right after the kept tokens.
      const counts = new Set<number>();
      for (const text of boundaryTexts) {
        const want = referenceOrNone(tok, text);
        if (want === undefined) continue;
        for (const n of sweepLengths(tok))
          for (const guess of GUESSES) {
            const got = encodeTextGuessing(spyOn(tok, text, n, counts), text, n, guess);
            assert.deepEqual(
              got,
              want(n),
              `${kind.name}, maxLength ${n}, guess ${guess}: ${text.slice(0, 60)}`,
            );
          }
      }
      for (const d of [0, 1, 2]) assert.ok(counts.has(d), `${kind.name}: no prefix ${d} tokens over`);
    }
  });

  test('a wrong cut is caught: cutting inside words changes some encodings of every kind', async () => {
    // Not the fixture: its 478-entry vocabulary makes most e-mail words one [UNK] wherever they are cut.
    for (const kind of kinds.filter((k) => k.cut && k.dir !== kinds[0]!.dir)) {
      const tok = await loadTokenizer(await kind.dir());
      const forced: TextTokenizer = {
        ...tok,
        prefixCut: { cut: { chars: 'abcdefghijklmnopqrstuvwxyz', basis: 'forced' }, reason: 'test' },
      };
      const texts = [...emails.filter((_, i) => i % 400 === 11), ...adversarial].map((t) => t.slice(0, 3000));
      const differs = texts.some((text) => {
        const want = referenceOrNone(tok, text);
        return (
          want &&
          Array.from({ length: 60 }, (_, k) => k + 4).some((n) =>
            [0.5, 1, 1.5, 2, 3].some(
              (g) => !isDeepStrictEqual(encodeTextGuessing(forced, text, n, g), want(n)),
            ),
          )
        );
      });
      assert.ok(differs, `${kind.name}: cuts inside words went unnoticed`);
    }
  });

  test('a long e-mail is tokenized once, only up to a cut; a short one once, whole', async () => {
    const tok = await loadTokenizer(BERT_DIR);
    const seen: string[] = [];
    const encode = tok.tokenizer.encode.bind(tok.tokenizer);
    const spy: TextTokenizer = {
      ...tok,
      tokenizer: Object.assign(Object.create(tok.tokenizer) as typeof tok.tokenizer, {
        encode: (text: string, o?: Parameters<typeof encode>[1]) => (seen.push(text), encode(text, o)),
      }),
    };
    const long = longest[0]!;
    const out = encodeText(spy, long, 128);
    assert.equal(out.ids.length, 128);
    assert.equal(seen.length, 1);
    assert.ok(
      seen[0]!.length < 2000 && long.startsWith(seen[0]!),
      `${seen[0]!.length} of ${long.length} chars`,
    );
    seen.length = 0;
    encodeText(spy, 'a short text', 128);
    assert.deepEqual(seen, ['a short text']);
  });
});

describe('prefixCutFor', () => {
  const bert = { type: 'WordPiece', vocab: { a: 0 }, unk_token: 'a' };
  const verdict = (json: Record<string, unknown>) => prefixCutFor({ added_tokens: [], ...json }, null);

  test('BERT cuts on any ASCII whitespace; a Metaspace pipeline only on spaces', () => {
    assert.equal(verdict({ pre_tokenizer: { type: 'BertPreTokenizer' }, model: bert }).cut?.chars, ' \t\n\r');
    const meta = verdict({
      pre_tokenizer: { type: 'Metaspace', replacement: '\u2581' },
      model: { type: 'Unigram', vocab: [['\u2581a', 0]] },
    });
    assert.equal(meta.cut?.chars, ' ');
  });

  test('refuses what it cannot prove', () => {
    for (const [json, why] of [
      [{ pre_tokenizer: { type: 'Split', pattern: { Regex: '\\s+' } }, model: bert }, /Split/],
      [{ pre_tokenizer: { type: 'FixedLength', length: 4 }, model: bert }, /FixedLength/],
      [{ normalizer: { type: 'Replace', pattern: { String: ' ' }, content: '' }, model: bert }, /joins/],
      [{ normalizer: { type: 'Replace', pattern: { Regex: '\\s' }, content: '_' }, model: bert }, /Replace/],
      [{ normalizer: { type: 'Replace', pattern: { String: 'a b' }, content: 'c' }, model: bert }, /spans/],
      [{ pre_tokenizer: null, model: bert }, /WordPiece model on unsplit/],
      [{ pre_tokenizer: { type: 'BertPreTokenizer' }, model: { type: 'Legacy' } }, /model Legacy/],
      [
        { pre_tokenizer: { type: 'BertPreTokenizer' }, added_tokens: [{ content: 'a b' }], model: bert },
        /added/,
      ],
      [
        { pre_tokenizer: null, model: { type: 'BPE', vocab: {}, merges: ['a b'], ignore_merges: true } },
        /ignore/,
      ],
    ] as const)
      assert.match(verdict(json as Record<string, unknown>).reason, why);
  });

  test('findCut: the first blank at or after the guess that follows a solid character', () => {
    const cut = { chars: ' \n', basis: 't' };
    assert.equal(findCut('ab cd ef', 3, cut), 5);
    assert.equal(findCut('ab  \u0301cd ef', 1, cut), 2);
    assert.equal(findCut('ab \u00a0 cd', 3, cut), 7);
    assert.equal(findCut('abc\u0301 d', 0, cut), 6);
    assert.equal(findCut('abcdef', 2, cut), 6);
  });
});
