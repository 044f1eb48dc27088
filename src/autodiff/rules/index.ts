/** The gradient rule registry: op type -> rule. One file per op family. */
import type { GradientRule } from '../types.js';
import { activationRules } from './activations.js';
import { arithmeticRules } from './arithmetic.js';
import { convRules } from './conv.js';
import { dropoutRules } from './dropout.js';
import { indexingRules } from './indexing.js';
import { linalgRules } from './linalg.js';
import { normRules } from './norm.js';
import { poolRules } from './pool.js';
import { reduceRules } from './reduce.js';
import { shapeRules } from './shape-ops.js';
import { softmaxRules } from './softmax.js';

export const gradientRules: Record<string, GradientRule> = {
  ...arithmeticRules,
  ...activationRules,
  ...linalgRules,
  ...shapeRules,
  ...softmaxRules,
  ...reduceRules,
  ...dropoutRules,
  ...convRules,
  ...normRules,
  ...poolRules,
  ...indexingRules,
};
