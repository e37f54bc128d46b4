// Reading import files record by record, as bytes arrive: CSV (RFC 4180, quoted fields may span lines) and JSON (an
// array of objects, or one object per line). Every record keeps the line it starts on, so a rejection can name it; a
// record that cannot be read is reported and the next one is read as usual.

/** RawRecord is one record: its first line and its fields (CSV) or its value (JSON), or why it could not be read. */
export type RawRecord =
  | { line: number; fields: string[] }
  | { line: number; value: unknown }
  | { line: number; error: string };

/** ImportFormat is how a file is written. */
export type ImportFormat = 'csv' | 'json';

/** TextEncodingName is what the bytes of a file are: UTF-8 (the default, a BOM is skipped) or GB18030 (which reads GBK). */
export type TextEncodingName = 'utf-8' | 'gb18030';

/** MAX_RECORD_BYTES bounds one record: a file without line ends or with an open quote cannot make us buffer it whole. */
export const MAX_RECORD_BYTES = 64 * 1024;

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/**
 * splitCsv yields the byte ranges of CSV records. Splitting bytes is safe for UTF-8 and GBK alike: neither uses the
 * bytes of '"', CR or LF inside a multi-byte character.
 */
async function* splitCsv(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<{ line: number; bytes: Buffer } | { line: number; error: string }> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let inQuotes = false;
  let line = 1;
  let recordLine = 1;
  let oversized = false;
  for await (const chunk of chunks) {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (let i = 0; i < buf.length; i++) {
      const b = buf[i]!;
      if (b === QUOTE) inQuotes = !inQuotes;
      else if (b === LF) {
        line++;
        if (!inQuotes) {
          const part = buf.subarray(start, i);
          if (pendingBytes + part.length > MAX_RECORD_BYTES) oversized = true;
          const bytes = oversized ? part : pending.length > 0 ? Buffer.concat([...pending, part]) : part;
          pending = [];
          pendingBytes = 0;
          start = i + 1;
          if (oversized) yield { line: recordLine, error: `the record is longer than ${MAX_RECORD_BYTES} bytes (an unclosed quote?)` };
          else yield { line: recordLine, bytes: stripCr(bytes) };
          oversized = false;
          recordLine = line;
        }
      }
    }
    if (!oversized) {
      pending.push(Buffer.from(buf.subarray(start)));
      pendingBytes += buf.length - start;
      if (pendingBytes > MAX_RECORD_BYTES) {
        oversized = true;
        pending = [];
        pendingBytes = 0;
      }
    }
  }
  if (oversized) {
    yield { line: recordLine, error: inQuotes ? 'a quoted field is never closed before the end of the file' : `the record is longer than ${MAX_RECORD_BYTES} bytes` };
    return;
  }
  const rest = Buffer.concat(pending);
  if (inQuotes) yield { line: recordLine, error: 'a quoted field is never closed before the end of the file' };
  else if (rest.length > 0) yield { line: recordLine, bytes: stripCr(rest) };
}

function stripCr(b: Buffer): Buffer {
  return b.length > 0 && b[b.length - 1] === CR ? b.subarray(0, b.length - 1) : b;
}

/** parseCsvRecord splits one decoded record into fields; it throws a message naming the column for a stray quote. */
export function parseCsvRecord(text: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new Error(`column ${fields.length + 1}: the quoted field is not closed`);
        value += text.slice(i, q);
        if (text[q + 1] === '"') {
          value += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      if (i < text.length && text[i] !== ',') throw new Error(`column ${fields.length + 1}: text after the closing quote`);
      fields.push(value);
    } else {
      const comma = text.indexOf(',', i);
      const value = comma < 0 ? text.slice(i) : text.slice(i, comma);
      if (value.includes('"')) throw new Error(`column ${fields.length + 1}: a quote inside an unquoted field (quote the field and double the quote)`);
      fields.push(value);
      i = comma < 0 ? text.length : comma;
    }
    if (i >= text.length) return fields;
    i++; // the comma
  }
}

/** decoder returns a strict decoder: a byte sequence that is not valid in the encoding is an error, not a U+FFFD. */
function decoder(encoding: TextEncodingName): TextDecoder {
  return new TextDecoder(encoding, { fatal: true, ignoreBOM: false });
}

function encodingHint(encoding: TextEncodingName): string {
  return encoding === 'utf-8' ? 'the bytes are not valid UTF-8 (a file saved as GBK? import it with encoding gb18030)' : `the bytes are not valid ${encoding.toUpperCase()}`;
}

/** csvRecords reads CSV records; blank lines are skipped. */
export async function* csvRecords(chunks: AsyncIterable<Uint8Array>, encoding: TextEncodingName = 'utf-8'): AsyncGenerator<RawRecord> {
  const dec = decoder(encoding);
  let first = true;
  for await (const r of splitCsv(chunks)) {
    if ('error' in r) {
      yield r;
      continue;
    }
    let text: string;
    try {
      let bytes = r.bytes;
      if (first && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
      text = dec.decode(bytes);
    } catch {
      yield { line: r.line, error: encodingHint(encoding) };
      continue;
    } finally {
      first = false;
    }
    if (text.trim() === '') continue;
    try {
      yield { line: r.line, fields: parseCsvRecord(text) };
    } catch (err) {
      yield { line: r.line, error: (err as Error).message };
    }
  }
}

/**
 * jsonRecords reads a JSON array of values, element by element, or JSON Lines (one value per line). Each element is
 * parsed on its own: a syntax error spoils that element only.
 */
export async function* jsonRecords(chunks: AsyncIterable<Uint8Array>, encoding: TextEncodingName = 'utf-8'): AsyncGenerator<RawRecord> {
  const dec = decoder(encoding);
  let mode: 'start' | 'array' | 'lines' | 'done' = 'start';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let line = 1;
  let elementLine = 0;
  let element: Buffer[] = [];
  let elementBytes = 0;
  let oversized = false;
  let separated = true;

  const finish = function* (): Generator<RawRecord> {
    const bytes = Buffer.concat(element);
    const at = elementLine;
    element = [];
    elementBytes = 0;
    elementLine = 0;
    if (oversized) {
      oversized = false;
      yield { line: at, error: `the element is longer than ${MAX_RECORD_BYTES} bytes` };
      return;
    }
    let text: string;
    try {
      text = dec.decode(bytes);
    } catch {
      yield { line: at, error: encodingHint(encoding) };
      return;
    }
    try {
      yield { line: at, value: JSON.parse(text) };
    } catch (err) {
      yield { line: at, error: `not valid JSON: ${(err as Error).message}` };
    }
  };

  let first = true;
  for await (const chunk of chunks) {
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (first && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    first = false;
    let start = -1;
    for (let i = 0; i < buf.length; i++) {
      const b = buf[i]!;
      if (mode === 'done') {
        if (b === LF) line++;
        else if (!isSpace(b)) {
          yield { line, error: 'text after the end of the array' };
          return;
        }
        continue;
      }
      if (mode === 'start') {
        if (b === LF) line++;
        if (isSpace(b)) continue;
        mode = b === 0x5b /* [ */ ? 'array' : 'lines';
        if (mode === 'array') continue;
      }
      if (elementLine === 0) {
        // Between elements.
        if (b === LF) {
          line++;
          continue;
        }
        if (isSpace(b)) continue;
        if (mode === 'array') {
          if (b === 0x2c /* , */) {
            if (separated) yield { line, error: 'an empty element (two commas in a row)' };
            separated = true;
            continue;
          }
          if (b === 0x5d /* ] */) {
            mode = 'done';
            continue;
          }
          if (!separated) yield { line, error: 'a missing comma between elements' };
          separated = false;
        }
        elementLine = line;
        start = i;
        depth = 0;
        inString = false;
        escaped = false;
      }
      let ends = false;
      if (inString) {
        if (escaped) escaped = false;
        else if (b === 0x5c) escaped = true;
        else if (b === QUOTE) inString = false;
        else if (b === LF) line++;
      } else if (b === QUOTE) inString = true;
      else if (b === 0x7b || b === 0x5b) depth++;
      else if (b === 0x7d || b === 0x5d) {
        if (depth === 0 && mode === 'array' && b === 0x5d) {
          // A bare value (number, literal) ended by the closing bracket.
          element.push(Buffer.from(buf.subarray(start < 0 ? 0 : start, i)));
          start = -1;
          yield* finish();
          mode = 'done';
          continue;
        }
        depth--;
        if (depth === 0) ends = true;
      } else if (depth === 0 && (b === 0x2c || b === LF)) {
        // A bare value ended by a comma (array) or a line end (lines).
        element.push(Buffer.from(buf.subarray(start < 0 ? 0 : start, i)));
        start = -1;
        yield* finish();
        if (b === LF) line++;
        if (b === 0x2c) separated = true;
        continue;
      } else if (b === LF) line++;
      if (ends) {
        const part = buf.subarray(start < 0 ? 0 : start, i + 1);
        if (elementBytes + part.length > MAX_RECORD_BYTES) oversized = true;
        element.push(Buffer.from(part));
        start = -1;
        yield* finish();
        continue;
      }
    }
    if (elementLine !== 0 && !oversized) {
      element.push(Buffer.from(buf.subarray(start < 0 ? 0 : start)));
      elementBytes += buf.length - (start < 0 ? 0 : start);
      if (elementBytes > MAX_RECORD_BYTES) {
        oversized = true;
        element = [];
      }
    }
  }
  if (elementLine !== 0) {
    if (mode === 'lines' && depth === 0 && !inString) yield* finish();
    else yield { line: elementLine, error: 'the element is not closed before the end of the file' };
  } else if (mode === 'array') {
    yield { line, error: 'the array is not closed with ] before the end of the file' };
  }
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === CR || b === LF;
}
