/**
 * `--max-pixels` and `--allow-truncated` for every command that decodes images (train, eval, rank, predict,
 * extract, worker, quantize, demo, serve): they set the process-wide image limits (src/preprocess/limits.ts)
 * before the command runs, so every decode the command makes honours them.
 */
import type { Command } from 'commander';
import { DEFAULT_MAX_PIXELS, setImageLimits } from '../preprocess/limits.js';
import { number } from './parse.js';

const IMAGE_COMMANDS = new Set([
  'train',
  'eval',
  'rank',
  'predict',
  'extract',
  'worker',
  'quantize',
  'demo',
  'serve',
]);

interface LimitFlags {
  maxPixels?: string;
  allowTruncated?: boolean;
}

export function addImageLimitFlags(program: Command): void {
  for (const cmd of program.commands) {
    if (!IMAGE_COMMANDS.has(cmd.name())) continue;
    if (!cmd.options.some((o) => o.long === '--max-pixels'))
      cmd.option(
        '--max-pixels <n>',
        `largest image decoded (width × height, checked from the header first; default ${DEFAULT_MAX_PIXELS})`,
      );
    cmd.option(
      '--allow-truncated',
      'use images that decode only partly (truncated data, bad checksums) instead of skipping them',
    );
    cmd.hook('preAction', (_self, action) => {
      const f = action.opts<LimitFlags>();
      setImageLimits({
        maxPixels: number('max-pixels', f.maxPixels, { integer: true, min: 1 }),
        allowTruncated: f.allowTruncated ?? false,
      });
    });
  }
}
