/** Ids of the no-transfer baselines every candidate must beat: raw pixels for images, tf-idf for text. */
export const PIXELS_ID = 'pixels';
export const TFIDF_ID = 'tfidf';
