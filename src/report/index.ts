/** Training reports: one self-contained HTML page per trained model. */
export { renderReport, writeReport, REPORT_FILE } from './render.js';
export { thumbnailDataUri } from './thumbnail.js';
export { escapeHtml } from './escape.js';
export type * from './types.js';
