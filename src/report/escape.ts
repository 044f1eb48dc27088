/** Escaping for everything user-provided that ends up in the report's HTML. */

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * JSON for embedding inside a `<script>` element: `<`, `>`, `&` and the JS line separators become \u escapes,
 * so no string inside can close the element or open a comment.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => {
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** Library source for an inline `<script>`: neutralises any `</script` or `<!--` sequence. */
export function scriptSource(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

const DATA_IMAGE = /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/]+=*$/;

/** The URI when it is a base64 raster image data URI, else undefined (never `javascript:` or remote URLs). */
export function safeImageDataUri(uri: string | undefined): string | undefined {
  return uri !== undefined && DATA_IMAGE.test(uri) ? uri : undefined;
}

/** A number for tables: fixed decimals, '–' for missing or non-finite. */
export function fmt(value: number | undefined | null, digits = 4): string {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '–';
}

/** A fraction as a percentage with one decimal. */
export function pct(value: number | undefined): string {
  return typeof value === 'number' && Number.isFinite(value) ? `${(value * 100).toFixed(1)}%` : '–';
}
