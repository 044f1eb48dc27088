import type { Command } from 'commander';
import { addImageLimitFlags } from '../image-limits.js';
import { registerDemo } from './demo.js';
import { registerDistill } from './distill.js';
import { registerEval } from './eval.js';
import { registerExtract } from './extract.js';
import { registerInspect } from './inspect.js';
import { registerModels } from './models.js';
import { registerPredict } from './predict.js';
import { registerQuantize } from './quantize.js';
import { registerRank } from './rank.js';
import { registerServe } from './serve.js';
import { registerTrain } from './train.js';
import { registerWorker } from './worker.js';

export function registerCommands(program: Command): void {
  registerModels(program);
  registerInspect(program);
  registerTrain(program);
  registerDistill(program);
  registerEval(program);
  registerRank(program);
  registerPredict(program);
  registerDemo(program);
  registerServe(program);
  registerExtract(program);
  registerWorker(program);
  registerQuantize(program);
  addImageLimitFlags(program);
}
