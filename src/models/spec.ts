/** How raw images become the backbone's input tensor. Pure data: applied outside the runtime. */
export interface ImagePreprocess {
  readonly kind: 'image';
  /** Final input height and width. */
  readonly size: readonly [number, number];
  /** Shorter side is resized to this before the centre crop; equal to size means "resize, no crop". */
  readonly resizeShorter: number;
  readonly crop: 'center' | 'none';
  readonly interpolation: 'bilinear' | 'bicubic' | 'nearest';
  readonly layout: 'NHWC' | 'NCHW';
  readonly channels: 1 | 3;
  /** value = (pixel * scale - mean[c]) / std[c], pixel in 0..255. */
  readonly scale: number;
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** How raw text becomes the encoder's inputs. */
export interface TextPreprocess {
  readonly kind: 'text';
  readonly maxLength: number;
  readonly pooling: 'cls' | 'mean';
  readonly normalize: boolean;
  readonly lowercase?: boolean;
  readonly vectorizer?: undefined;
}

/**
 * How raw text becomes a tf-idf model's input: term counts [N, vocabulary] over the vocabulary file in the
 * model directory (src/text/tfidf); the weighting itself is part of model.onnx.
 */
export interface TfidfPreprocess {
  readonly kind: 'text';
  readonly vectorizer: 'tfidf';
  /** The vocabulary file, relative to the model directory. */
  readonly file: string;
}

export type Preprocess = ImagePreprocess | TextPreprocess | TfidfPreprocess;

export type ModelFormat = 'keras-layers' | 'tfjs-graph' | 'onnx';

/** A registry entry: everything needed to fetch, import and cut a pre-trained model. */
export interface ModelSpec {
  readonly id: string;
  readonly description: string;
  readonly task: 'image' | 'text';
  readonly format: ModelFormat;
  /** Where the weights come from: `npm:<pkg>/<path>`, `file:<dir>` or `hub:<org>/<name>[@rev]`. */
  readonly source: string;
  readonly inputName: string;
  readonly preprocess: Preprocess;
  /** The tensor a new head is attached to (pooled features before the classifier). */
  readonly featureTensor: string;
  /** Nodes of the original classifier, removed when the head is reset. */
  readonly headNodes: readonly string[];
  /** Earlier block outputs worth trying as features (spatial ones are globally average-pooled). */
  readonly candidateFeatures: readonly string[];
  readonly license: string;
}

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
