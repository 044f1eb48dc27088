import type { Command } from 'commander';
import { registerInspect } from './inspect.js';
import { registerModels } from './models.js';
import { registerServe } from './serve.js';

export function registerCommands(program: Command): void {
  registerModels(program);
  registerInspect(program);
  registerServe(program);
}
