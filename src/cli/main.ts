/** The `graft` command line: commands are registered from src/cli/commands, errors become exit codes. */
import { Command, CommanderError } from 'commander';
import { GraftError } from '../errors.js';
import { VERSION } from '../version.js';
import { installCancel } from './cancel.js';
import { reportError } from './output.js';
import { ChildExit } from './respawn.js';
import { registerCommands } from './commands/index.js';

/** Commands that handle SIGINT/SIGTERM themselves (finish in-flight work, then exit). */
const OWN_SIGNAL_HANDLERS = new Set(['serve', 'worker']);

export function buildProgram(): Command {
  const program = new Command('graft')
    .description(
      'Transfer learning for TypeScript: train image and text classifiers on pre-trained ONNX models.',
    )
    .version(VERSION, '-V, --version')
    .option('--verbose', 'print stack traces for errors')
    .showHelpAfterError()
    .exitOverride();
  registerCommands(program);
  program.hook('preAction', (_self, action) => {
    if (!OWN_SIGNAL_HANDLERS.has(action.name())) installCancel();
  });
  return program;
}

/** Runs the CLI and resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  const verbose = argv.includes('--verbose');
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (e) {
    if (e instanceof ChildExit) return e.code;
    if (e instanceof CommanderError) {
      if (
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version' ||
        e.code === 'commander.help'
      ) {
        return 0;
      }
      return reportError(new GraftError('BAD_OPTION', e.message.replace(/^error: /, '')), false) && 2;
    }
    return reportError(e, verbose);
  }
}
