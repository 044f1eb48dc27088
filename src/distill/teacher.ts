/**
 * The teacher of a distillation: a graft model directory, or any ONNX image classifier (`file:teacher.onnx`)
 * with its label list. Its logits are the input of the Softmax that makes its probabilities (the output itself
 * when it has none: then it must be logits, or log-probabilities, which soften to the same targets). What
 * comes back is everything needed to run it on the data and to compare it with its student.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GraftError } from '../errors.js';
import { MODEL_FILE, readManifest } from '../export/manifest.js';
import type { ImagePreprocess } from '../models/spec.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../models/spec.js';
import { decodeModel } from '../onnx/io.js';
import type { Model } from '../onnx/ir.js';
import { extract } from '../onnx/surgery.js';
import type { SessionOptions } from '../runtime/session.js';

export interface Teacher {
  /** As given: a model directory or `file:<model.onnx>`. */
  source: string;
  model: Model;
  /** Bytes of its ONNX file. */
  bytes: number;
  inputName: string;
  /** The tensor holding its logits [N, classes]. */
  logits: string;
  preprocess: ImagePreprocess;
  labels: string[];
  /** The registry backbone it was made from (model directories only). */
  baseId?: string;
  /** Where that backbone was cut (model directories only). */
  featureTensor?: string;
}

/** How a bare ONNX teacher's pixels are scaled: 'unit' (0..1) or 'imagenet' (0..1, then ImageNet mean/std). */
export type TeacherNormalization = 'unit' | 'imagenet';

export interface TeacherOptions {
  /** Required for `file:` teachers: the class of each output column, in order. */
  labels?: readonly string[];
  normalization?: TeacherNormalization;
}

/** The logits tensor of a classifier whose output is `output`. */
export function logitsOf(model: Model, output: string): string {
  const producer = model.graph.nodes.find((n) => n.outputs.includes(output));
  return producer?.opType === 'Softmax' && producer.inputs[0] ? producer.inputs[0] : output;
}

function contractError(source: string, why: string): GraftError {
  return new GraftError(
    'BAD_INPUT',
    `teacher '${source}': its input contract cannot be fed from image data (${why})`,
    { teacher: source },
  );
}

/** Size, layout and channels of a bare ONNX image input [N, C, H, W] or [N, H, W, C]. */
function inputContract(source: string, model: Model, norm: TeacherNormalization): ImagePreprocess {
  const input = model.graph.inputs.find((v) => !model.graph.initializers.has(v.name));
  if (!input) throw contractError(source, 'the graph has no input');
  if (input.dtype !== 'float32')
    throw contractError(source, `input '${input.name}' is ${input.dtype}, not float32`);
  const shape = input.shape ?? [];
  const fixed = (d: unknown): d is number => typeof d === 'number' && d > 0;
  if (shape.length !== 4)
    throw contractError(
      source,
      `input '${input.name}' has shape [${shape}], not an image batch [N,C,H,W] or [N,H,W,C]`,
    );
  const nchw = shape[1] === 1 || shape[1] === 3;
  const [c, h, w] = nchw ? [shape[1], shape[2], shape[3]] : [shape[3], shape[1], shape[2]];
  if (!fixed(h) || !fixed(w) || (c !== 1 && c !== 3))
    throw contractError(
      source,
      `input '${input.name}' has shape [${shape}]: graft needs a fixed height and width and 1 or 3 channels`,
    );
  const imagenet = norm === 'imagenet' && c === 3;
  return {
    kind: 'image',
    size: [h, w],
    resizeShorter: Math.min(h, w),
    crop: 'center',
    interpolation: 'bilinear',
    layout: nchw ? 'NCHW' : 'NHWC',
    channels: c,
    scale: 1 / 255,
    mean: imagenet ? [...IMAGENET_MEAN] : new Array<number>(c).fill(0),
    std: imagenet ? [...IMAGENET_STD] : new Array<number>(c).fill(1),
  };
}

async function readBytes(path: string, source: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new GraftError(
      'MODEL_NOT_FOUND',
      `teacher '${source}': cannot read ${path}`,
      { teacher: source },
      { cause: e },
    );
  }
}

export async function loadTeacher(source: string, o: TeacherOptions = {}): Promise<Teacher> {
  if (source.startsWith('file:')) {
    const path = source.slice('file:'.length);
    if (!o.labels || o.labels.length < 2)
      throw new GraftError(
        'BAD_OPTION',
        `teacher '${source}' is a bare ONNX file: give its labels in output order (--teacher-labels a,b,c)`,
      );
    const bytes = await readBytes(path, source);
    const model = decodeModel(bytes, { label: `'${path}'` });
    const output = model.graph.outputs[0]?.name;
    if (!output) throw contractError(source, 'the graph has no output');
    const preprocess = inputContract(source, model, o.normalization ?? 'unit');
    const inputName = model.graph.inputs.find((v) => !model.graph.initializers.has(v.name))!.name;
    return {
      source,
      model,
      bytes: bytes.length,
      inputName,
      logits: logitsOf(model, output),
      preprocess,
      labels: [...o.labels],
    };
  }
  if (o.labels)
    throw new GraftError(
      'BAD_OPTION',
      `--teacher-labels is for bare ONNX teachers (file:…); '${source}' is a model directory whose graft.json lists its labels`,
    );
  const manifest = await readManifest(source);
  const pre = manifest.preprocess;
  if (manifest.task !== 'image-classification' || pre.kind !== 'image')
    throw contractError(
      source,
      `it is a ${manifest.task} model; \`graft distill\` takes image data and image teachers`,
    );
  const bytes = await readBytes(join(source, MODEL_FILE), source);
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (manifest.modelSha256 && manifest.modelSha256 !== sha)
    throw new GraftError(
      'CORRUPT_MODEL',
      `teacher '${source}': ${MODEL_FILE} does not belong with its graft.json`,
      {
        teacher: source,
      },
    );
  const model = decodeModel(bytes, { baseDir: source, label: `'${source}/${MODEL_FILE}'` });
  return {
    source,
    model,
    bytes: bytes.length,
    inputName: manifest.inputs[0]!,
    logits: logitsOf(model, manifest.output),
    preprocess: pre,
    labels: [...manifest.labels],
    baseId: manifest.base.id,
    featureTensor: manifest.featureTensor,
  };
}

/**
 * Session options of a teacher that runs beside its student's training steps (the augmented path): its threads
 * block between parallel sections instead of spinning, as the training session's do, so a finished teacher run
 * does not keep both cores busy while the student's step runs (bench/distill-step.ts's step, 2 shared cores at
 * load 9: the student's part took 205 ms after a spinning teacher, 114 ms after a blocking one). An explicit
 * `spinWait` wins.
 */
export function teacherSessionOptions(session: SessionOptions | undefined): SessionOptions {
  return { spinWait: false, ...session };
}

/** The teacher up to its logits (they may be an inner tensor, e.g. a Softmax's input), as its own model. */
export function teacherLogitsModel(t: Teacher): Model {
  return { ...t.model, graph: extract(t.model.graph, [t.inputName], [t.logits]) };
}
