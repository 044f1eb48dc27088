/** Renders a training run's events: progress bars and tables on a TTY, JSON lines otherwise, nothing if quiet. */
import cliProgress from 'cli-progress';
import type { TrainEvent } from '../pipeline/events.js';
import { throwIfCancelled } from './cancel.js';
import { bold, dim } from './output.js';
import { featureName } from './decision-table.js';

export interface RenderOptions {
  quiet?: boolean;
  /** Force JSON lines even on a TTY (with --json, events go to stderr and the result to stdout). */
  jsonLines?: boolean;
}

export function eventRenderer(options: RenderOptions = {}): (e: TrainEvent) => void {
  if (options.quiet) return () => {};
  const tty = Boolean(process.stderr.isTTY) && !options.jsonLines;
  if (!tty) {
    let lastExtract = 0;
    return (e) => {
      if (e.type === 'extract') {
        const now = Date.now();
        if (now - lastExtract < 1000 && e.progress.done < e.progress.total) return;
        lastExtract = now;
      }
      process.stderr.write(`${JSON.stringify(e)}\n`);
    };
  }
  let bar: cliProgress.SingleBar | undefined;
  const stopBar = () => {
    bar?.stop();
    bar = undefined;
  };
  return (e) => {
    switch (e.type) {
      case 'stage':
        stopBar();
        process.stderr.write(`${bold('›')} ${e.message}\n`);
        break;
      case 'data':
        process.stderr.write(
          `  ${e.labels.length} classes; train ${e.counts.train}, validation ${e.counts.validation}, test ${e.counts.test}\n`,
        );
        break;
      case 'warning':
        process.stderr.write(`  ${dim('warning:')} ${e.warning.message} (${e.warning.count})\n`);
        break;
      case 'extract': {
        const p = e.progress;
        if (!bar) {
          bar = new cliProgress.SingleBar(
            {
              format: '  {bar} {value}/{total} | {rate} items/s | ETA {eta_formatted} | {cached} cached',
              hideCursor: true,
              stream: process.stderr,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(p.total, p.done, { rate: '0', cached: p.cached });
        }
        bar.update(p.done, { rate: p.rate.toFixed(1), cached: p.cached });
        if (p.done >= p.total) stopBar();
        break;
      }
      case 'candidate': {
        const c = e.score;
        const name = featureName(c);
        const score = c.skipped
          ? `skipped (${c.skipped})`
          : `cv accuracy ${(c.cvAccuracy * 100).toFixed(1)}%`;
        process.stderr.write(
          `  ${name.padEnd(30)} ${String(c.dim).padStart(5)}-d  ${c.head.padEnd(6)}  ${score}  ${c.seconds.toFixed(1)}s\n`,
        );
        break;
      }
      case 'epoch': {
        const val = e.valLoss === undefined ? '' : `  val_loss ${e.valLoss.toFixed(4)}`;
        const acc = e.valAccuracy === undefined ? '' : `  val_accuracy ${(e.valAccuracy * 100).toFixed(1)}%`;
        process.stderr.write(`  epoch ${e.epoch + 1}  loss ${e.trainLoss.toFixed(4)}${val}${acc}\n`);
        break;
      }
    }
  };
}

/**
 * Wraps a renderer so that a cancelled command stops at its next event (stage, batch of extraction, epoch), even
 * in a stage that does not check the signal itself.
 */
export function cancellable(render: (e: TrainEvent) => void): (e: TrainEvent) => void {
  return (e) => {
    throwIfCancelled();
    render(e);
  };
}

/** A simple items bar for one long step: a cli-progress bar on a TTY, nothing otherwise (or with --json). */
export function progressBar(
  label: string,
  quiet = false,
): { update: (done: number, total: number) => void; stop: () => void } {
  if (quiet || !process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  let bar: cliProgress.SingleBar | undefined;
  return {
    update: (done, total) => {
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            format: `  ${label} {bar} {value}/{total} | ETA {eta_formatted}`,
            hideCursor: true,
            stream: process.stderr,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0);
      }
      bar.update(done);
    },
    stop: () => bar?.stop(),
  };
}
