/**
 * A feature id names a tensor of the backbone and how a spatial one is pooled into a vector: `block_12_add` is
 * globally average-pooled ([N,C,H,W] → [N,C]); `block_12_add@2x2` is average-pooled over a 2×2 grid of regions
 * ([N,C,H,W] → [N,C·4], channel-major), which keeps coarse layout (where in the image a pattern fired). The
 * grid's windows are AveragePool windows strided by floor(H/g) and as tall as it takes to end at the edge,
 * overlapping where H is not a multiple of g, so the same pooling is one ONNX node in every graph that reads the features.
 * `a+b@2x2` concatenates the pooled vectors of its parts, in order: a head on several depths of the backbone at
 * once (general and specific patterns side by side). Parts come from one backbone; a concatenation is for heads on
 * frozen features, and fine-tuning, which cuts the backbone at one tensor, refuses it.
 */
import { GraftError } from '../errors.js';
import { attr, type GraphBuilder } from '../onnx/builder.js';

export interface FeatureId {
  tensor: string;
  /** Regions per side: 1 is global average pooling. */
  grid: number;
}

const GRID = /^(.*)@(\d+)x(\d+)$/;
const CONCAT = '+';

/** The parts of a feature id: one for a single tensor, several for a concatenation `a+b`. */
export function featureParts(id: string): FeatureId[] {
  return id.split(CONCAT).map(parseOne);
}

export const isConcatenation = (id: string): boolean => id.includes(CONCAT);

/** The feature id that concatenates `ids` (each a single or concatenated id), in order. */
export const concatFeatureId = (ids: readonly string[]): string => ids.join(CONCAT);

/** A single (not concatenated) feature id. */
export function parseFeatureId(id: string): FeatureId {
  if (isConcatenation(id))
    throw new GraftError(
      'BAD_OPTION',
      `feature '${id}' concatenates several tensors: fine-tuning cuts the backbone at one tensor; ` +
        `use one of '${id.split(CONCAT).join("', '")}', or train a head on the frozen features`,
    );
  return parseOne(id);
}

function parseOne(id: string): FeatureId {
  if (id === '') throw new GraftError('BAD_OPTION', 'an empty feature id (check for a stray "+")');
  const m = GRID.exec(id);
  if (!m) return { tensor: id, grid: 1 };
  const [, tensor, rows, cols] = m;
  const grid = Number(rows);
  if (rows !== cols || !(grid >= 1 && grid <= 8))
    throw new GraftError(
      'BAD_OPTION',
      `feature '${id}': a pooling grid is square, 1x1 to 8x8 (e.g. '${tensor}@2x2')`,
    );
  return { tensor: tensor!, grid };
}

export function formatFeatureId(f: FeatureId): string {
  return f.grid === 1 ? f.tensor : `${f.tensor}@${f.grid}x${f.grid}`;
}

/** Window and stride along one axis of `size` for `grid` regions. */
export function gridWindow(size: number, grid: number): { kernel: number; stride: number } {
  if (grid > size)
    throw new GraftError(
      'BAD_OPTION',
      `a ${grid}x${grid} pooling grid needs a map of at least ${grid} pixels`,
    );
  const stride = Math.floor(size / grid);
  return { kernel: size - stride * (grid - 1), stride };
}

/** Width of the pooled vector of a [C, H, W] map (or of a [C] vector, which is used as it is). */
export function pooledDim(shape: readonly number[], grid: number): number {
  return shape.length === 3 ? shape[0]! * grid * grid : shape.reduce((a, b) => a * b, 1);
}

/**
 * Emits the pooling of `tensor` ([N,C,H,W] with `spatial` = [H, W]) into the [N, C·g²] tensor `output`.
 */
export function emitGridPool(
  b: GraphBuilder,
  tensor: string,
  spatial: readonly [number, number],
  grid: number,
  output: string,
): void {
  const pooled =
    grid === 1
      ? b.op('GlobalAveragePool', [tensor])
      : (() => {
          const [h, w] = spatial.map((s) => gridWindow(s, grid));
          return b.op('AveragePool', [tensor], {
            kernel_shape: attr.ints([h!.kernel, w!.kernel]),
            strides: attr.ints([h!.stride, w!.stride]),
          });
        })();
  b.op('Flatten', [pooled], { axis: attr.int(1) }, { outputs: [output] });
}
