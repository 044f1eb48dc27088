import type { Command } from 'commander';
import { listModels } from '../../models/registry.js';
import { printJson, table } from '../output.js';

export function registerModels(program: Command): void {
  program
    .command('models')
    .description('list the pre-trained models graft knows')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const specs = listModels();
      if (opts.json) return printJson(specs);
      const rows = specs.map((s) => [
        s.id,
        s.task,
        s.format,
        s.preprocess.kind === 'image' ? `${s.preprocess.size.join('x')}` : `${s.preprocess.maxLength} tokens`,
        s.description,
      ]);
      process.stdout.write(`${table(['id', 'task', 'format', 'input', 'description'], rows)}\n`);
    });
}
