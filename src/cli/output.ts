/** How the CLI talks: human text on a TTY, JSON for scripts, one line per error. */
import { GraftError } from '../errors.js';

export interface OutputOptions {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

export const useColor = (): boolean => Boolean(process.stdout.isTTY) && !process.env['NO_COLOR'];

const paint = (code: number) => (s: string) => (useColor() ? `\x1b[${code}m${s}\x1b[0m` : s);
export const bold = paint(1);
export const dim = paint(2);
export const red = paint(31);
export const green = paint(32);

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints an error in one line (a stack only with --verbose) and returns the process exit code. */
export function reportError(e: unknown, verbose: boolean): number {
  if (e instanceof GraftError) {
    process.stderr.write(`${red('graft: error')} [${e.code}] ${e.message}\n`);
    if (verbose && e.stack) process.stderr.write(`${e.stack}\n`);
    return e.exitCode;
  }
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`${red('graft: internal error')} ${msg.split('\n')[0]}\n`);
  if (verbose && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  else process.stderr.write(`${dim('(run again with --verbose for details)')}\n`);
  return 1;
}

/** Formats rows as an aligned plain-text table. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join(
    '\n',
  );
}
