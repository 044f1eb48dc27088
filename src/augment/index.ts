/** Image augmentation for fine-tuning (raw pixels, seeded). */
export { augmentImage, augmentRng, sampleCrop, toRawImage, type AugmentOptions } from './image.js';
