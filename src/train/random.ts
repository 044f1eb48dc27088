/** Seeded randomness for training: the one generator graft uses everywhere (src/data/random.ts). */
export { deriveSeed, Mulberry32 as Rng, permutation } from '../data/random.js';
