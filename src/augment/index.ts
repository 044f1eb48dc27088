/** Image augmentation for fine-tuning and for feature views (raw pixels, seeded). */
export {
  AUGMENT_DEFAULTS,
  augmentImage,
  augmentRng,
  isGreyImage,
  resolveAugment,
  sampleCrop,
  toRawImage,
  type AugmentOptions,
  type ResolvedAugment,
} from './image.js';
