/** Renders a scale-out run: a shard bar (done / running / failed) on a TTY, JSON lines otherwise, or nothing. */
import cliProgress from 'cli-progress';
import type { ScaleEvent } from '../scale/options.js';
import { bold, dim } from './output.js';

export function scaleRenderer(
  options: { quiet?: boolean; jsonLines?: boolean } = {},
): (e: ScaleEvent) => void {
  if (options.quiet) return () => {};
  if (!process.stderr.isTTY || options.jsonLines) {
    let last = 0;
    return (e) => {
      if (e.type === 'shards') {
        const now = Date.now();
        const end = e.progress.done + e.progress.failed >= e.progress.total;
        if (now - last < 1000 && !end) return;
        last = now;
      }
      process.stderr.write(`${JSON.stringify(e)}\n`);
    };
  }
  let bar: cliProgress.SingleBar | undefined;
  return (e) => {
    if (e.type === 'stage') {
      bar?.stop();
      bar = undefined;
      process.stderr.write(`${bold('›')} ${e.message}\n`);
    } else if (e.type === 'warning') {
      process.stderr.write(`  ${dim('warning:')} ${e.message} (${e.count})\n`);
    } else {
      const p = e.progress;
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            format:
              '  {bar} {value}/{total} shards | {running} running | {failed} failed | ETA {eta_formatted}',
            hideCursor: true,
            stream: process.stderr,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.total, p.done, { running: p.running, failed: p.failed });
      }
      bar.update(p.done, { running: p.running, failed: p.failed });
      if (p.done + p.failed >= p.total) {
        bar.stop();
        bar = undefined;
      }
    }
  };
}
