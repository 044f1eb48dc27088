/** The model registry: typed specs keyed by id, and `loadBackbone` to import one as graft IR. */
import { GraftError } from '../errors.js';
import { cloneModel, type Model } from '../onnx/ir.js';
import { importSource } from './backbone.js';
import type { Example, ImageSource } from '../data/types.js';
import { NSFWJS_IMPORT_OPTIONS, NSFWJS_MODELS } from './nsfwjs.js';
import { pixelBackbone, PIXELS_ID } from './pixels.js';
import type { ModelSpec } from './spec.js';

const SPECS: ReadonlyMap<string, ModelSpec> = new Map(NSFWJS_MODELS.map((s) => [s.id, s]));

/** Every registered model, in registration order. */
export function listModels(): ModelSpec[] {
  return [...SPECS.values()];
}

/** The spec of a registered model id; MODEL_NOT_FOUND (listing the known ids) otherwise. */
export function getModelSpec(id: string): ModelSpec {
  const spec = SPECS.get(id);
  if (!spec) {
    const known = [...SPECS.keys()];
    throw new GraftError('MODEL_NOT_FOUND', `unknown model '${id}'; known models: ${known.join(', ')}`, {
      id,
      known,
    });
  }
  return spec;
}

/** True when `id` is a registered model id. */
export function hasModel(id: string): boolean {
  return SPECS.has(id);
}

export interface Backbone {
  readonly spec: ModelSpec;
  /** A private copy of the imported graph (structure copied, initializer tensors shared and immutable). */
  readonly model: Model;
}

/** What a backbone may be fitted to: the training examples (the `pixels` baseline takes its size from them). */
export interface BackboneContext {
  readonly examples?: readonly Example<ImageSource>[];
}

/** Ids of the no-transfer baselines, which are made for the data rather than imported (see models/pixels.ts). */
export const BASELINE_IDS = [PIXELS_ID] as const;

const cache = new Map<string, Promise<Backbone>>();

/**
 * Imports a model as graft IR: a registry id (`npm:nsfwjs/mobilenet_v2`), or a source string
 * (`npm:<pkg>/<dir>`, `file:<dir with model.onnx or a TF.js model.json>`, `file:<model.onnx>`, `hub:…`).
 * Imports are cached in memory per process; each call returns its own copy of the graph.
 * `pixels` (the raw-pixel baseline) is built for `context.examples`, which it requires.
 */
export async function loadBackbone(idOrSource: string, context: BackboneContext = {}): Promise<Backbone> {
  if (idOrSource === PIXELS_ID) {
    if (!context.examples || context.examples.length === 0)
      throw new GraftError(
        'BAD_OPTION',
        "the 'pixels' baseline takes its size from the data: call loadBackbone('pixels', { examples }) or pixelBackbone(examples)",
      );
    return pixelBackbone(context.examples);
  }
  let pending = cache.get(idOrSource);
  if (!pending) {
    const registered = SPECS.get(idOrSource) ?? listModels().find((s) => s.source === idOrSource);
    pending = importSource(
      registered?.source ?? idOrSource,
      registered,
      NSFWJS_IMPORT_OPTIONS[registered?.id ?? ''],
    );
    cache.set(idOrSource, pending);
    pending.catch(() => cache.delete(idOrSource));
  }
  const b = await pending;
  return { spec: b.spec, model: cloneModel(b.model) };
}

/** Drops cached imports (tests, memory pressure). */
export function clearBackboneCache(): void {
  cache.clear();
}
