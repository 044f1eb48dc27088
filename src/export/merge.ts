/** One deployable graph: backbone prefix (pooled features) + head (probabilities). */
import type { Graph, Model } from '../onnx/ir.js';
import { append } from '../onnx/surgery.js';

/**
 * Attaches `head` (whose first input takes the features) after `featureOutput` of the pooled prefix model and
 * returns a model with the prefix's opsets, ready for any ONNX Runtime.
 */
export function mergeBackboneAndHead(prefix: Model, featureOutput: string, head: Graph): Model {
  const graph = append(prefix.graph, head, featureOutput, { keepOutputNames: true });
  graph.name = 'graft_classifier';
  return { ...prefix, graph, producerName: 'graft', metadata: { ...prefix.metadata } };
}
