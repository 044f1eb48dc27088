/**
 * The modality plugins by kind. Plugins are small; what they do loads on first use, so an image-only program
 * never loads the tokenizers and a text-only one never loads a backbone.
 */
import { GraftError } from '../errors.js';
import { IMAGE } from './image.js';
import { TEXT } from './text.js';
import type { Modality } from './types.js';

export type { Modality, ModalityKind } from './types.js';

const PLUGINS: ReadonlyMap<string, Modality> = new Map([IMAGE, TEXT].map((m) => [m.kind, m]));

/** The plugin of a kind of data (UNSUPPORTED_OP for a kind graft has none for). */
export function modality(kind: string): Modality {
  const m = PLUGINS.get(kind);
  if (!m)
    throw new GraftError(
      'UNSUPPORTED_OP',
      `graft has no plugin for '${kind}' data; it knows ${[...PLUGINS.keys()].join(', ')}`,
      { kind },
    );
  return m;
}
