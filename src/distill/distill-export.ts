/**
 * The distilled student as a model directory, through the one writer (pipeline/model-dir.ts): model.onnx (the
 * student's network up to its features + head), graft.json whose metrics hold the teacher/student comparison,
 * and report.html with the two side by side. The comparison itself is measured here, on the deployable graph.
 */
import type { ModelManifest } from '../export/manifest.js';
import type { Backbone } from '../models/registry.js';
import { encodeModel } from '../onnx/io.js';
import type { Graph, Model } from '../onnx/ir.js';
import { headlineMetrics, imageClassifierModel } from '../pipeline/export.js';
import type { ManifestFields } from '../export/manifest.js';
import { reportData, writeClassifierDir } from '../pipeline/model-dir.js';
import type { ImageSource } from '../data/types.js';
import type { SessionOptions } from '../runtime/session.js';
import type { History } from '../train/history.js';
import { countParameters, measureSpeed, sideBySide, type DistillComparison } from './compare.js';
import type { HeldOutPair } from './held-out.js';
import type { Teacher } from './teacher.js';

export interface StudentModel {
  backbone: Backbone;
  /** The backbone with the trained weights. */
  weights: Model;
  feature: string;
  head: Graph;
}

/** The student's deployable graph (input → probabilities). */
export function studentClassifier(s: StudentModel): Promise<Model> {
  return imageClassifierModel(s.backbone, s.weights, s.feature, s.head);
}

/** Parameters, file size and images/s of both on `images` (speed skipped when `rounds` is 0). */
export async function compareSides(
  teacher: Teacher,
  student: Model,
  studentBackbone: Backbone,
  pair: HeldOutPair,
  images: readonly ImageSource[],
  rounds: number,
  session?: SessionOptions,
): Promise<DistillComparison> {
  const pre = studentBackbone.spec.preprocess;
  const speed =
    rounds > 0 && images.length > 0 && pre.kind === 'image'
      ? await measureSpeed(
          {
            model: teacher.model,
            inputName: teacher.inputName,
            output: teacher.model.graph.outputs[0]!.name,
            preprocess: teacher.preprocess,
          },
          {
            model: student,
            inputName: studentBackbone.spec.inputName,
            output: 'probabilities',
            preprocess: pre,
          },
          images,
          rounds,
          session,
        )
      : undefined;
  return sideBySide(
    { accuracy: pair.teacher.accuracy, parameters: countParameters(teacher.model), bytes: teacher.bytes },
    {
      accuracy: pair.student.accuracy,
      agreement: pair.agreement,
      parameters: countParameters(student),
      bytes: encodeModel(student).length,
    },
    speed,
    pair.student.n,
  );
}

export interface DistillExport {
  out: string;
  model: Model;
  /** The modality's manifest fields (task, labels, inputs, output, preprocess, base, featureTensor). */
  fields: Omit<ManifestFields, 'head' | 'training' | 'metrics'>;
  studentSpec: string;
  teacherSource: string;
  labels: string[];
  pair: HeldOutPair;
  comparison: DistillComparison;
  evaluatedOn: string;
  datasetName: string;
  counts: Record<string, number>;
  training: Record<string, unknown>;
  headInfo: Record<string, unknown>;
  seconds: Record<string, number>;
  history?: History;
  /** Writes further files into the staging directory (e.g. a text model's tokenizer). */
  also?: (staging: string) => Promise<unknown>;
}

export function writeDistilled(x: DistillExport): Promise<ModelManifest> {
  const c = x.comparison;
  const metrics = headlineMetrics({
    evaluatedOn: x.evaluatedOn,
    evaluation: x.pair.student,
    counts: x.counts,
  });
  const sides = [
    { role: 'teacher', model: x.teacherSource, ...c.teacher },
    { role: 'student', model: x.studentSpec, ...c.student },
  ];
  return writeClassifierDir(
    x.out,
    x.model,
    {
      ...x.fields,
      head: x.headInfo,
      training: x.training,
      metrics: { ...metrics, distillation: c },
    },
    reportData({
      datasetName: x.datasetName,
      modelId: `${x.studentSpec} (distilled from ${x.teacherSource})`,
      labels: x.labels,
      evaluation: x.pair.student,
      evaluatedOn: x.evaluatedOn,
      counts: x.counts,
      settings: x.training,
      seconds: x.seconds,
      throughput: {
        ...(c.teacher.imagesPerSecond !== undefined ? { teacher: c.teacher.imagesPerSecond } : {}),
        ...(c.student.imagesPerSecond !== undefined ? { student: c.student.imagesPerSecond } : {}),
      },
      history: x.history,
      comparisons: [
        { name: 'teacher', report: x.pair.teacher },
        { name: 'student (distilled)', report: x.pair.student },
      ],
      distillation: sides,
    }),
    x.also ? { also: x.also } : {},
  );
}
