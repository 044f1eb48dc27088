/**
 * A text teacher: a graft text model directory (model.onnx = encoder + head, its tokenizer files, graft.json).
 * Its logits are the input of the Softmax that makes its probabilities; they are computed once for the texts
 * a student learns from (text is not augmented, so nothing goes stale), in batches padded to their longest text.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { TextDataset } from '../data/types.js';
import { GraftError } from '../errors.js';
import { MODEL_FILE, readManifest, type ModelManifest } from '../export/manifest.js';
import type { TextPreprocess } from '../models/spec.js';
import { Session, type SessionOptions } from '../runtime/session.js';
import type { Tensor } from '../tensor.js';
import { loadTextEncoder, type LoadedTextEncoder } from '../text/encoder.js';
import { TextDataSource } from '../text/finetune/data.js';
import { selectColumns } from './labels.js';
import { logitsOf } from './teacher.js';

export interface TextTeacher {
  source: string;
  manifest: ModelManifest;
  encoder: LoadedTextEncoder;
  preprocess: TextPreprocess;
  /** The tensor holding its logits [N, classes]. */
  logits: string;
  labels: string[];
  bytes: number;
  /** The encoder inputs it takes (input_ids, attention_mask, token_type_ids…). */
  inputs: string[];
}

/** Whether `source` is a graft model directory of a text classifier (the text path of distill()). */
export async function isTextTeacher(source: string): Promise<boolean> {
  if (source.startsWith('file:')) return false;
  const isFile = await stat(join(source, 'graft.json')).then(
    (s) => s.isFile(),
    () => false,
  );
  return isFile && (await readManifest(source)).task === 'text-classification';
}

export async function loadTextTeacher(source: string): Promise<TextTeacher> {
  const manifest = await readManifest(source);
  const pre = manifest.preprocess;
  if (manifest.task !== 'text-classification' || pre.kind !== 'text')
    throw new GraftError('BAD_INPUT', `teacher '${source}' is not a text classifier`, { teacher: source });
  if (pre.vectorizer !== undefined)
    throw new GraftError(
      'BAD_INPUT',
      `teacher '${source}' is a tf-idf model: text students are made from a transformer encoder's layers`,
      { teacher: source },
    );
  const encoder = await loadTextEncoder(`file:${source}`, { modelFile: MODEL_FILE });
  const bytes = (await stat(encoder.modelPath)).size;
  return {
    source,
    manifest,
    encoder,
    preprocess: pre,
    logits: logitsOf(encoder.model, manifest.output),
    labels: [...manifest.labels],
    bytes,
    inputs: [...manifest.inputs],
  };
}

/** A source over texts with the teacher's tokenizer and length (no shuffle unless a seed asks for it). */
export function teacherTextSource(
  t: TextTeacher,
  ds: TextDataset,
  inputs: readonly string[],
  o: { seed?: number; columns?: Record<string, Tensor> } = {},
): TextDataSource {
  return TextDataSource.fromTexts(
    t.encoder.tokenizer,
    ds.examples.map((e) => e.source),
    ds.examples.map((e) => e.label),
    { maxLength: t.preprocess.maxLength, inputs, ...o },
  );
}

/** The teacher's logits for the texts, in the data's label order ([n, columns.length]). */
export async function textTeacherLogits(
  t: TextTeacher,
  ds: TextDataset,
  columns: Int32Array,
  o: { session?: SessionOptions; batchSize?: number } = {},
): Promise<Tensor> {
  const source = teacherTextSource(t, ds, t.inputs);
  const session = await Session.create(t.encoder.model, o.session);
  const n = ds.examples.length;
  const width = columns.length;
  const out = new Float32Array(n * width);
  try {
    let row = 0;
    for await (const batch of source.batches(o.batchSize ?? 32, 0, false)) {
      const r = (await session.run(batch.inputs, [t.logits]))[t.logits]!;
      const rows = batch.labels.length;
      out.set(selectColumns(r.data as Float32Array, rows, columns), row * width);
      row += rows;
    }
  } finally {
    await session.release();
  }
  return { dtype: 'float32', shape: [n, width], data: out };
}
