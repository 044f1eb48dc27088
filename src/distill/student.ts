/**
 * `--student` specs: what the student is and how it starts.
 *
 *   cut:<tensor>[@<g>x<g>]        the teacher's own network (its fine-tuned weights) cut earlier, + a new head;
 *                                 for a bare ONNX teacher, or a tensor past the teacher's cut, the registry
 *                                 backbone it came from
 *   model:<registry id>[:<tensor>] a registry model (e.g. a smaller one than the teacher's), cut at its default
 *                                 feature tensor or at <tensor>
 *   cnn | mlp                     a small CNN, or an MLP on raw pixels, from scratch
 *   layers:<N> | layers:<i,j,…>   (text teachers) the teacher's encoder with N of its layers, spread evenly,
 *                                 or the listed ones (distill/text-student.ts)
 */
import type { Example, ImageSource } from '../data/types.js';
import { GraftError } from '../errors.js';
import { parseFeatureId } from '../features/feature-id.js';
import { extract } from '../onnx/surgery.js';
import type { DenseHeadSpec } from '../heads/dense.js';
import { PIXELS_FEATURES } from '../models/pixels.js';
import { hasModel, listModels, loadBackbone, type Backbone } from '../models/registry.js';
import type { UnfreezeSpec } from '../strategies/finetune/cut.js';
import { pixelsForMlp, smallCnn, CNN_FEATURES } from './small-nets.js';
import type { BackboneTrainable } from '../strategies/finetune/backbone-trainable.js';
import { countParameters } from './compare.js';
import type { Teacher } from './teacher.js';

export type StudentSpec =
  | { kind: 'cut'; feature: string }
  | { kind: 'model'; id: string; feature?: string }
  | { kind: 'cnn' }
  | { kind: 'mlp' }
  | { kind: 'layers'; count?: number; layers?: number[] };

export const STUDENT_FORMS =
  "cut:<tensor>[@2x2] (the teacher's network cut earlier), model:<registry id>[:<tensor>], cnn, mlp; for text teachers layers:<N> or layers:<i,j,…>";

export function parseStudentSpec(spec: string): StudentSpec {
  const s = spec.trim();
  if (s === 'cnn' || s === 'mlp') return { kind: s };
  if (s.startsWith('cut:') && s.length > 4) return { kind: 'cut', feature: s.slice(4) };
  if (s.startsWith('model:')) {
    const rest = s.slice('model:'.length);
    if (hasModel(rest)) return { kind: 'model', id: rest };
    const at = rest.lastIndexOf(':');
    if (at > 0 && hasModel(rest.slice(0, at)))
      return { kind: 'model', id: rest.slice(0, at), feature: rest.slice(at + 1) };
    throw new GraftError(
      'BAD_OPTION',
      `--student ${s}: '${rest}' is not a registry model; known: ${listModels()
        .map((m) => m.id)
        .join(', ')}`,
    );
  }
  if (s.startsWith('layers:')) {
    const parts = s.slice('layers:'.length).split(',');
    const nums = parts.map((p) => Number(p.trim()));
    if (parts.some((p) => p.trim() === '') || nums.some((n) => !Number.isInteger(n) || n < 0))
      throw new GraftError(
        'BAD_OPTION',
        `--student ${s}: give a number of layers (layers:3) or the teacher layers to keep (layers:0,2,4)`,
      );
    return nums.length === 1 ? { kind: 'layers', count: nums[0]! } : { kind: 'layers', layers: nums };
  }
  throw new GraftError('BAD_OPTION', `--student '${s}' is not a student spec; use ${STUDENT_FORMS}`);
}

export interface Student {
  spec: StudentSpec;
  backbone: Backbone;
  /** Feature id the head reads (`tensor` or `tensor@gxg`). */
  feature: string;
  init: 'pretrained' | 'scratch';
  /** What trains unless the caller says otherwise. */
  unfreeze: UnfreezeSpec;
  head: DenseHeadSpec;
  description: string;
}

const producedBy = (b: Backbone, tensor: string): boolean =>
  b.model.graph.nodes.some((n) => n.outputs.includes(tensor));

/** The teacher's own network as a Backbone (model directories: their graph, fine-tuned weights included). */
function teacherBackbone(t: Teacher): Backbone {
  return {
    spec: {
      id: t.baseId ?? t.source,
      description: `the teacher ${t.source}`,
      task: 'image',
      format: 'onnx',
      source: t.source,
      inputName: t.inputName,
      preprocess: t.preprocess,
      featureTensor: t.logits,
      headNodes: [],
      candidateFeatures: [],
      license: 'as the teacher',
    },
    model: t.model,
  };
}

export async function buildStudent(
  spec: StudentSpec,
  teacher: Teacher,
  examples: readonly Example<ImageSource>[],
  head: DenseHeadSpec,
): Promise<Student> {
  switch (spec.kind) {
    case 'layers':
      throw new GraftError(
        'BAD_OPTION',
        `--student layers:…: a shallower encoder is made from a text teacher's layers; '${teacher.source}' is an image model`,
      );
    case 'cnn':
      return {
        spec,
        backbone: smallCnn(examples),
        feature: CNN_FEATURES,
        init: 'scratch',
        unfreeze: 'all',
        head,
        description: 'small CNN from scratch',
      };
    case 'mlp':
      return {
        spec,
        backbone: pixelsForMlp(examples),
        feature: PIXELS_FEATURES,
        init: 'pretrained',
        unfreeze: 'none',
        head: head.kind === 'mlp' ? head : { kind: 'mlp', hidden: [256], activation: 'relu', dropout: 0 },
        description: 'MLP on raw pixels from scratch',
      };
    case 'model': {
      const backbone = await loadBackbone(spec.id);
      const feature = spec.feature ?? backbone.spec.featureTensor;
      checkTensor(backbone, feature, `model:${spec.id}`);
      return {
        spec,
        backbone,
        feature,
        init: 'pretrained',
        unfreeze: 'none',
        head,
        description: `${spec.id} cut at ${feature}`,
      };
    }
    case 'cut': {
      const { tensor } = parseFeatureId(spec.feature);
      const own = teacherBackbone(teacher);
      let backbone = own;
      let where = "the teacher's network";
      if (!producedBy(own, tensor)) {
        if (!teacher.baseId || !hasModel(teacher.baseId))
          throw new GraftError(
            'BAD_OPTION',
            `--student cut:${spec.feature}: the teacher has no tensor '${tensor}' and no registry backbone to cut; use model:<registry id>:${tensor}`,
          );
        backbone = await loadBackbone(teacher.baseId);
        where = `the registry backbone ${teacher.baseId} (the teacher stops before '${tensor}')`;
      }
      checkTensor(backbone, tensor, `cut:${spec.feature}`);
      return {
        spec,
        backbone: upTo(backbone, tensor),
        feature: spec.feature,
        init: 'pretrained',
        unfreeze: 'none',
        head,
        description: `${where} cut at ${spec.feature}`,
      };
    }
  }
}

/** The backbone up to `tensor` only: what lies past the cut (e.g. the teacher's own head) is not the student's. */
function upTo(b: Backbone, tensor: string): Backbone {
  return {
    spec: { ...b.spec, featureTensor: tensor },
    model: { ...b.model, graph: extract(b.model.graph, [b.spec.inputName], [tensor]) },
  };
}

function checkTensor(b: Backbone, tensor: string, what: string): void {
  const { tensor: t } = parseFeatureId(tensor);
  if (!producedBy(b, t))
    throw new GraftError(
      'BAD_OPTION',
      `--student ${what}: ${b.spec.id} has no tensor '${t}' (see graft inspect)`,
      {
        tensor: t,
      },
    );
}

/** Parameters of the student as it will be deployed: its network up to the features, and its head. */
export function studentParameters(s: Student, model: BackboneTrainable): number {
  const { tensor } = parseFeatureId(s.feature);
  const m = s.backbone.model;
  let n = countParameters({ ...m, graph: extract(m.graph, [s.backbone.spec.inputName], [tensor]) });
  for (const [name, v] of model.params) if (name.startsWith('head/')) n += v.length;
  return n;
}
