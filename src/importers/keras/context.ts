/** State shared by the Keras layer converters: the graph being built, weights, tensor layouts. */
import { GraftError } from '../../errors.js';
import { attr, GraphBuilder } from '../../onnx/builder.js';
import type { Attribute, Dim } from '../../onnx/ir.js';
import { float32, int64, type Tensor } from '../../tensor.js';

/**
 * A Keras tensor as it exists in the ONNX graph. `shape` is always in Keras order (NHWC for images, batch
 * first, `null` batch). Rank-4 tensors are stored NCHW in the graph (`nchw: true`); others in Keras order.
 */
export interface KTensor {
  readonly name: string;
  readonly shape: readonly Dim[];
  readonly nchw: boolean;
}

/** One call of a layer: its config, inputs, and the exact ONNX name its output must get. */
export interface LayerCall {
  readonly layer: string;
  readonly className: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly inputs: readonly KTensor[];
  readonly out: string;
}

export class KerasContext {
  readonly b: GraphBuilder;
  private readonly usedWeights = new Set<string>();

  constructor(
    readonly weights: ReadonlyMap<string, Tensor>,
    graphName: string,
  ) {
    this.b = new GraphBuilder(graphName);
  }

  /** A layer weight by Keras name (`<layer>/<weight>`), tolerating `:0` suffixes and scope prefixes. */
  weight(call: LayerCall, weight: string, required = true): Tensor | undefined {
    const key = `${call.layer}/${weight}`;
    let found = this.weights.get(key) ?? this.weights.get(`${key}:0`);
    if (!found) {
      for (const [name, t] of this.weights) {
        const bare = name.replace(/:0$/, '');
        if (bare.endsWith(`/${key}`)) {
          found = t;
          break;
        }
      }
    }
    if (!found && required) {
      throw new GraftError(
        'CORRUPT_MODEL',
        `weight '${key}' of layer '${call.layer}' is not in the manifest`,
        {
          layer: call.layer,
          weight: key,
        },
      );
    }
    if (found) this.usedWeights.add(key);
    return found;
  }

  /** Adds an initializer named exactly `<layer>/<suffix>` (made unique if taken). */
  init(call: LayerCall, suffix: string, t: Tensor): string {
    return this.b.initializer(this.b.unique(`${call.layer}/${suffix}`), t);
  }

  ints(call: LayerCall, suffix: string, values: readonly number[]): string {
    return this.init(call, suffix, int64([values.length], values));
  }

  scalar(call: LayerCall, suffix: string, value: number): string {
    return this.init(call, suffix, float32([], [value]));
  }

  /** Appends a node of this layer; `last` nodes write the layer's output name. */
  op(
    call: LayerCall,
    opType: string,
    inputs: readonly string[],
    attrs: Record<string, Attribute> = {},
    last = false,
  ): string {
    const name = `${call.layer}/${opType}`;
    return this.b.op(opType, inputs, attrs, { name, outputs: last ? [call.out] : 1 });
  }

  /** The tensor's data in Keras order (transposing NCHW back to NHWC when needed). */
  kerasOrder(call: LayerCall, t: KTensor, last = false): string {
    if (!t.nchw) return last ? this.op(call, 'Identity', [t.name], {}, true) : t.name;
    return this.op(call, 'Transpose', [t.name], { perm: attr.ints([0, 2, 3, 1]) }, last);
  }

  /** Keras order → stored order for a result of rank `rank` (rank 4 becomes NCHW). */
  fromKerasOrder(call: LayerCall, name: string, shape: readonly Dim[]): KTensor {
    if (shape.length !== 4) return { name, shape, nchw: false };
    const t = this.op(call, 'Transpose', [name], { perm: attr.ints([0, 3, 1, 2]) }, true);
    return { name: t, shape, nchw: true };
  }
}

/** Keras axis (negative allowed, in Keras order) → axis in the stored layout. */
export function storedAxis(t: KTensor, axis: number): number {
  const rank = t.shape.length;
  const a = axis < 0 ? axis + rank : axis;
  if (!t.nchw) return a;
  return a === 0 ? 0 : a === rank - 1 ? 1 : a + 1;
}

export function unsupported(call: LayerCall, what: string): GraftError {
  return new GraftError(
    'UNSUPPORTED_OP',
    `layer '${call.layer}' (${call.className}): ${what} is not supported`,
    { layer: call.layer, className: call.className },
  );
}
