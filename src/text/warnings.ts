/** Counted warnings about texts (nothing here throws: odd texts are still encoded), and UTF-8 decoding. */

export type TextWarningCode = 'INVALID_UTF8' | 'EMPTY_TEXT' | 'TRUNCATED';

export interface TextWarning {
  readonly code: TextWarningCode;
  readonly message: string;
  readonly count: number;
  /** The first few offending example ids. */
  readonly items: readonly string[];
}

const SHOWN = 20;
const DESCRIPTIONS: Record<TextWarningCode, string> = {
  INVALID_UTF8: 'texts with bytes that are not UTF-8 (replaced by U+FFFD)',
  EMPTY_TEXT: 'empty or whitespace-only texts (encoded as the special tokens alone)',
  TRUNCATED: 'texts longer than maxLength tokens (truncated)',
};

export class TextWarnings {
  private readonly byCode = new Map<TextWarningCode, string[]>();

  add(code: TextWarningCode, item: string): void {
    let list = this.byCode.get(code);
    if (!list) this.byCode.set(code, (list = []));
    list.push(item);
  }

  /** Notes empty and replacement-character texts. */
  inspect(id: string, text: string): void {
    if (text.trim() === '') this.add('EMPTY_TEXT', id);
    if (text.includes('\uFFFD')) this.add('INVALID_UTF8', id);
  }

  toArray(): TextWarning[] {
    return [...this.byCode].map(([code, items]) => ({
      code,
      message: `${items.length} ${DESCRIPTIONS[code]}`,
      count: items.length,
      items: items.slice(0, SHOWN),
    }));
  }
}

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
const lenient = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false });

/**
 * Decodes bytes (a CSV/JSONL file read as a Buffer) as UTF-8; invalid sequences become U+FFFD and are
 * counted in `invalid` (replacement characters that were already in valid UTF-8 are not counted).
 */
export function decodeUtf8(bytes: Uint8Array): { text: string; invalid: number } {
  try {
    return { text: strict.decode(bytes), invalid: 0 };
  } catch {
    const text = lenient.decode(bytes);
    let produced = 0;
    for (const ch of text) if (ch === '\uFFFD') produced++;
    let original = 0;
    for (let i = 0; i + 2 < bytes.length; i++)
      if (bytes[i] === 0xef && bytes[i + 1] === 0xbf && bytes[i + 2] === 0xbd) original++;
    return { text, invalid: produced - original };
  }
}
