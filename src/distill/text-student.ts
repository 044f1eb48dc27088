/**
 * Text students (`--student layers:N` or `layers:i,j,…`): the teacher's own encoder with fewer layers
 * (drop-layers.ts), each kept layer starting from the teacher's fine-tuned weights, and the teacher's own head
 * (pooling + dense layers) as the starting head — DistilBERT's initialisation (Sanh et al. 2019), whose student
 * also took the teacher's weights layer for layer.
 */
import { GraftError } from '../errors.js';
import type { Model } from '../onnx/ir.js';
import { extract } from '../onnx/surgery.js';
import { HEAD_PREFIX } from '../text/finetune/graph.js';
import { dropLayers, encoderLayers, spreadLayers } from './drop-layers.js';
import type { StudentSpec } from './student.js';
import type { TextTeacher } from './text-teacher.js';

/** The encoder output the classifier's pooling reads (SequenceClassifier's default). */
const HIDDEN = 'last_hidden_state';

export interface TextStudent {
  /** The shallower encoder alone (inputs → last_hidden_state). */
  encoder: Model;
  /** Teacher layers kept, in order. */
  keep: number[];
  teacherLayers: number;
  /** The teacher's head weights, by name, as the student's starting head. */
  initialParams: Map<string, Float32Array>;
  description: string;
}

export function textStudent(t: TextTeacher, spec: Extract<StudentSpec, { kind: 'layers' }>): TextStudent {
  const model = t.encoder.model;
  const total = encoderLayers(model).length;
  const keep = spec.layers ?? spreadLayers(total, spec.count ?? total);
  const shallow = dropLayers(model, keep);
  const g = shallow.graph;
  if (!g.nodes.some((n) => n.outputs.includes(HIDDEN)))
    throw new GraftError(
      'BAD_INPUT',
      `teacher '${t.source}': its graph has no '${HIDDEN}' tensor for the student's head to read`,
    );
  const inputs = g.inputs.filter((v) => !g.initializers.has(v.name)).map((v) => v.name);
  const encoder: Model = { ...shallow, graph: extract(g, inputs, [HIDDEN]) };
  const initialParams = new Map<string, Float32Array>();
  for (const [name, v] of model.graph.initializers)
    if (name.startsWith(HEAD_PREFIX) && v.dtype === 'float32')
      initialParams.set(name, (v.data as Float32Array).slice());
  const sorted = [...new Set(keep)].sort((a, b) => a - b);
  return {
    encoder,
    keep: sorted,
    teacherLayers: total,
    initialParams,
    description: `the teacher's encoder with ${sorted.length} of its ${total} layers (${sorted.join(', ')}) and its head`,
  };
}
