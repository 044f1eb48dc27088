/** Option checks that need the data: values that cannot work are refused before any work is done. */
import { GraftError } from '../errors.js';
import type { TrainClassifierOptions } from './options.js';

export function validateHeadOptions(
  o: Pick<TrainClassifierOptions, 'head' | 'k' | 'dropout'>,
  trainExamples: number,
): void {
  if (!(o.dropout >= 0 && o.dropout < 1))
    throw new GraftError('BAD_OPTION', `--dropout must be in [0, 1), got ${o.dropout}`);
  if (o.head === 'knn' && o.k > trainExamples)
    throw new GraftError(
      'BAD_OPTION',
      `--k ${o.k} is more neighbours than the ${trainExamples} training examples: use --k ${Math.max(1, Math.min(5, trainExamples))} or more data`,
    );
}
