/** Which feature tensors an extraction computes for a `--features` choice (train and extract agree on it). */
import type { ModelSpec } from '../models/spec.js';

export interface FeatureChoice {
  /** The features to choose among (several under `auto` when the model lists candidate cuts). */
  primary: string[];
  /** What one extraction pass computes: `primary`, plus the final features when they are compared with. */
  extracted: string[];
}

/**
 * `auto`: the registry's candidate cuts and the final features, extracted in one pass; `final`: the final
 * features; anything else: that feature id. With `withFinal` (graft train's baseline comparison, on by
 * default) the final features are extracted too. The list names the cache file, so `graft extract` and
 * `graft train` must compute it the same way.
 */
export function featureTensorsFor(spec: ModelSpec, features: string, withFinal = true): FeatureChoice {
  const final = spec.featureTensor;
  const primary =
    features === 'auto' && spec.candidateFeatures.length > 0
      ? [...new Set([...spec.candidateFeatures, final])]
      : [features === 'final' || features === 'auto' ? final : features];
  const extracted = withFinal && !primary.includes(final) ? [...primary, final] : primary;
  return { primary, extracted };
}
