/** graft's ONNX core: IR, builder, I/O, surgery, traversal, shape inference. */
export * from './ir.js';
export { attr, GraphBuilder, type NodeOptions } from './builder.js';
export {
  decodeModel,
  encodeModel,
  loadModel,
  saveModel,
  type LoadModelOptions,
  type SaveModelOptions,
} from './io.js';
export { append, cut, extract, renameValue, type AppendOptions, type CutResult } from './surgery.js';
export { consumers, producers, removeDeadNodes, topoSort } from './topo.js';
export { inferShapes } from './shape-inference.js';
export { summarizeModel, type ModelSummary } from './summary.js';
