/**
 * Inputs a command left out (unreadable images, unusable manifest rows, links that would relabel images, files
 * the decoder gave up on) as ONE line on stderr at the end of the command, printed even under --quiet: nothing a
 * user gave is dropped without a word. The same warnings, in full, are in the progress output and graft.json.
 */
import type { DataWarning } from '../data/types.js';
import { SKIP_CODES } from '../data/warnings.js';
import type { TrainEvent } from '../pipeline/events.js';

/** How many names the line shows (the count is always exact). */
const NAMES_SHOWN = 10;

export class SkipSummary {
  private readonly seen = new Set<DataWarning>();
  private readonly warnings: DataWarning[] = [];
  private printed = false;

  /** Counts the warnings that mean an input was left out; the same warning object twice counts once. */
  add(warnings: readonly DataWarning[]): void {
    for (const w of warnings) {
      if (!SKIP_CODES.has(w.code) || this.seen.has(w)) continue;
      this.seen.add(w);
      this.warnings.push(w);
    }
  }

  /** Wraps a training run's event handler, counting the warnings it sees (quiet or not). */
  observe(render: (e: TrainEvent) => void): (e: TrainEvent) => void {
    return (e) => {
      if (e.type === 'warning') this.add([e.warning]);
      render(e);
    };
  }

  /** Inputs left out so far. */
  get total(): number {
    return this.warnings.reduce((n, w) => n + w.count, 0);
  }

  /** The line, or undefined when nothing was left out. */
  line(): string | undefined {
    const total = this.total;
    if (total === 0) return undefined;
    const byCode = new Map<string, { count: number; items: string[] }>();
    for (const w of this.warnings) {
      const entry = byCode.get(w.code) ?? { count: 0, items: [] };
      entry.count += w.count;
      entry.items.push(...w.items);
      byCode.set(w.code, entry);
    }
    const parts = [...byCode].map(([code, { count, items }]) => {
      const names = items.slice(0, NAMES_SHOWN).join(', ');
      const more = count > NAMES_SHOWN ? `, … ${count - NAMES_SHOWN} more` : '';
      return `${count} ${code}: ${names}${more}`;
    });
    return `graft: warning: ${total} input${total === 1 ? '' : 's'} skipped (${parts.join('; ')})`;
  }

  /** Writes the line to stderr once (later calls do nothing). */
  print(): void {
    if (this.printed) return;
    this.printed = true;
    const text = this.line();
    if (text) process.stderr.write(`${text.replaceAll('\n', ' ')}\n`);
  }
}
