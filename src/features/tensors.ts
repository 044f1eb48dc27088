/** Which feature tensors an extraction computes for a `--features` choice (train and extract agree on it). */
import type { ModelSpec } from '../models/spec.js';

/**
 * `auto`: the registry's candidate cuts and the final features, extracted in one pass; `final`: the final
 * features; anything else: that tensor. The final features are always included (the report compares with them).
 */
export function featureTensorsFor(spec: ModelSpec, features: string): string[] {
  const final = spec.featureTensor;
  const tensors =
    features === 'auto'
      ? [...new Set([...spec.candidateFeatures, final])]
      : [features === 'final' ? final : features];
  if (!tensors.includes(final)) tensors.push(final);
  return tensors;
}
