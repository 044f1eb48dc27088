/** A small RFC 4180 CSV reader: quoted fields, doubled quotes, commas and newlines inside quotes, CRLF, BOM. */

export interface CsvRecord {
  readonly fields: string[];
  /** 1-based line on which the record starts, for messages. */
  readonly line: number;
}

export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let fields: string[] = [];
  let field = '';
  let start = line;
  let quoted = false;
  let any = false;
  const endRecord = (): void => {
    fields.push(field);
    // Blank lines are skipped.
    if (fields.length > 1 || fields[0] !== '') records.push({ fields, line: start });
    fields = [];
    field = '';
    any = false;
  };
  for (; i < text.length; i++) {
    const ch = text[i]!;
    if (!any) {
      start = line;
      any = true;
    }
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
    } else field += ch;
  }
  if (any) endRecord();
  return records;
}
