import type { Command } from 'commander';
import { registerInspect } from './inspect.js';
import { registerModels } from './models.js';

export function registerCommands(program: Command): void {
  registerModels(program);
  registerInspect(program);
}
