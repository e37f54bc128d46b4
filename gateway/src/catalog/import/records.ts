// Reading import files record by record, as bytes arrive: CSV (RFC 4180 with csv-parse, quoted fields may span lines)
// and JSON (an array of objects, or one object per line). Every record keeps the line it starts on, so a rejection can
// name it; a record that cannot be read is reported and the next one is read as usual.
import { parse, type CsvError } from 'csv-parse';

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
/** REPLACEMENT is what a decoder gives for bytes that are not valid in its encoding. */
const REPLACEMENT = '\uFFFD';

/** decoder returns a strict decoder: a byte sequence that is not valid in the encoding is an error, not a U+FFFD. */
function decoder(encoding: TextEncodingName): TextDecoder {
  return new TextDecoder(encoding, { fatal: true, ignoreBOM: false });
}

function encodingHint(encoding: TextEncodingName): string {
  return encoding === 'utf-8' ? 'the bytes are not valid UTF-8 (a file saved as GBK? import it with encoding gb18030)' : `the bytes are not valid ${encoding.toUpperCase()}`;
}

/** csvProblem says in words what csv-parse found wrong with a record. */
function csvProblem(err: CsvError): string {
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED': return 'a quoted field is never closed before the end of the file';
    case 'CSV_INVALID_CLOSING_QUOTE': return 'text follows the closing quote of a field (quote the whole field and double the quotes inside it)';
    default: return err.message.replace(/^Invalid [A-Za-z ]+: /, '');
  }
}

function newlines(fields: readonly string[]): number {
  let n = 0;
  for (const f of fields) for (let i = f.indexOf('\n'); i >= 0; i = f.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * csvRecords reads CSV records (RFC 4180) with csv-parse, as bytes arrive; blank lines are skipped. A record keeps the
 * line it starts on. Quotes inside an unquoted field are kept as text (Tom"s cam), as spreadsheets write them; a record
 * csv-parse cannot read is reported with its line and the next one is read as usual; bytes that are not valid in the
 * encoding spoil their record only. A record longer than MAX_RECORD_BYTES (an unclosed quote, a file without line
 * ends) is reported and reading starts again at the next line end, so that the rows after it are not lost.
 */
export async function* csvRecords(chunks: AsyncIterable<Uint8Array>, encoding: TextEncodingName = 'utf-8'): AsyncGenerator<RawRecord> {
  // Not fatal: a bad byte becomes U+FFFD and rejects its own record, instead of ending the whole file.
  const dec = new TextDecoder(encoding, { fatal: false, ignoreBOM: false });
  const queue: RawRecord[] = [];
  let failure: Error | undefined;
  /** linesFed counts the line ends given to parsers so far: where a fresh parser's line 1 lies. */
  let linesFed = 0;
  /** nextStart is the line after the last record read: where a record csv-parse cannot read began. */
  let nextStart = 1;
  /** overflow is set while the rest of an over-long record is skipped up to its line end; overflowFrom is its line. */
  let overflow = false;
  let overflowFrom = 0;
  const overflowed = (to: number | undefined) => {
    const where = to === undefined ? `lines ${overflowFrom} to the end of the file` : to > overflowFrom ? `lines ${overflowFrom}-${to}` : `line ${overflowFrom}`;
    queue.push({ line: overflowFrom, error: `the record is longer than ${MAX_RECORD_BYTES} characters (an unclosed quote?): ${where} could not be read` });
  };

  const start = (lineBase: number) => {
    const p = parse({
      relax_quotes: true, relax_column_count: true, skip_records_with_error: true, skip_empty_lines: true,
      // Files mix line ends (a header from one editor, rows from another): any of them ends a record.
      record_delimiter: ['\r\n', '\n', '\r'],
      max_record_size: MAX_RECORD_BYTES,
      // Records are taken here, as csv-parse reads them, so that they and the errors between them keep file order.
      on_record: (record: string[], context: { lines: number }) => {
        const line = lineBase + context.lines - newlines(record);
        nextStart = lineBase + context.lines + 1;
        if (record.some((f) => f.includes(REPLACEMENT))) queue.push({ line, error: encodingHint(encoding) });
        else queue.push({ line, fields: record });
        return null;
      },
    });
    p.on('skip', (err: CsvError) => {
      if (overflow) return;
      // csv-parse does not recover from an over-long record: a new parser takes over after its line end.
      if (err.code === 'CSV_MAX_RECORD_SIZE') {
        overflow = true;
        overflowFrom = nextStart;
        return;
      }
      queue.push({ line: nextStart, error: csvProblem(err) });
      nextStart = lineBase + ((err as CsvError & { lines?: number }).lines ?? 0) + 1;
    });
    p.on('error', (err) => { failure = err; });
    p.resume();
    return p;
  };
  let parser = start(0);
  const write = (text: string) => new Promise<void>((resolve) => {
    if (text === '') return resolve();
    parser.write(text, () => resolve());
  });
  // Text goes to the parser a line at a time: when a record overflows, the lines after its line end are not yet
  // written, and a fresh parser reads them.
  const feed = async (text: string) => {
    let from = 0;
    while (from < text.length) {
      const lf = text.indexOf('\n', from);
      const piece = lf < 0 ? text.slice(from) : text.slice(from, lf + 1);
      from += piece.length;
      if (lf >= 0) linesFed++;
      // Inside an over-long record, text is dropped up to its line end.
      if (!overflow) await write(piece);
      if (overflow && lf >= 0) {
        // The over-long record ends at this line end: a fresh parser reads on from the next line.
        overflowed(linesFed);
        parser.destroy();
        overflow = false;
        nextStart = linesFed + 1;
        parser = start(linesFed);
      }
    }
  };
  for await (const chunk of chunks) {
    await feed(dec.decode(chunk, { stream: true }));
    if (failure) throw failure;
    yield* queue.splice(0);
  }
  await feed(dec.decode());
  if (overflow) overflowed(undefined);
  else await new Promise<void>((resolve) => parser.end(() => resolve()));
  if (failure) throw failure;
  yield* queue.splice(0);
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
