// Reading import files: CSV and JSON records with their line numbers, bad records reported one by one.
import { describe, expect, it } from 'vitest';
import { checkRow, headerColumns } from '../../../gateway/src/catalog/import/camera-row.js';
import { csvField } from '../../../gateway/src/catalog/import/exporter.js';
import { csvRecords, jsonRecords, MAX_RECORD_BYTES, type RawRecord } from '../../../gateway/src/catalog/import/records.js';

/** chunked feeds bytes in pieces of n, so that records and characters are cut at every possible place. */
async function* chunked(bytes: Buffer, n: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += n) yield bytes.subarray(i, i + n);
}
async function all(gen: AsyncIterable<RawRecord>): Promise<RawRecord[]> {
  const out: RawRecord[] = [];
  for await (const r of gen) out.push(r);
  return out;
}

describe('CSV records', () => {
  const text = '\uFEFFid,name\r\n1,"a, ""quoted"" name"\r\n\r\n2,"two\nlines"\n3,plain\n';
  it.each([1, 2, 3, 7, 1000])('splits records with quotes, commas and line ends in fields (chunks of %i bytes)', async (n) => {
    expect(await all(csvRecords(chunked(Buffer.from(text), n)))).toEqual([
      { line: 1, fields: ['id', 'name'] },
      { line: 2, fields: ['1', 'a, "quoted" name'] },
      { line: 4, fields: ['2', 'two\nlines'] },
      { line: 6, fields: ['3', 'plain'] },
    ]);
  });

  it('reports a line that is not UTF-8 and reads the next; reads GBK when told', async () => {
    const gbk = Buffer.from([0xd6, 0xd0, 0xce, 0xc4]); // 中文 in GBK
    const bytes = Buffer.concat([Buffer.from('id,name\n1,'), gbk, Buffer.from('\n2,ok\n')]);
    const utf8 = await all(csvRecords(chunked(bytes, 3)));
    expect(utf8[1]).toEqual({ line: 2, error: expect.stringMatching(/not valid UTF-8 .*gb18030/) });
    expect(utf8[2]).toEqual({ line: 3, fields: ['2', 'ok'] });
    expect((await all(csvRecords(chunked(bytes, 3), 'gb18030')))[1]).toEqual({ line: 2, fields: ['1', '中文'] });
  });

  it('keeps a stray quote inside an unquoted field as text, as spreadsheets write it, and reads every row after it', async () => {
    const rows = Array.from({ length: 5001 }, (_, i) => (i === 2 ? `${i},Tom"s cam` : `${i},cam ${i}`));
    const recs = await all(csvRecords(chunked(Buffer.from(`id,name\n${rows.join('\n')}\n`), 777)));
    expect(recs).toHaveLength(5002);
    expect(recs[3]).toEqual({ line: 4, fields: ['2', 'Tom"s cam'] });
    expect(recs[5001]).toEqual({ line: 5002, fields: ['5000', 'cam 5000'] });
  });

  it('names an unclosed quote and a record too long to be one, and reads on after the long one', async () => {
    expect(await all(csvRecords(chunked(Buffer.from('id\n"open\n1\n'), 4)))).toEqual([
      { line: 1, fields: ['id'] },
      { line: 2, error: 'a quoted field is never closed before the end of the file' },
    ]);
    const long = Buffer.from(`id\n${'x'.repeat(MAX_RECORD_BYTES + 10)}\n2\n`);
    const recs = await all(csvRecords(chunked(long, 4096)));
    expect(recs).toEqual([{ line: 1, fields: ['id'] }, { line: 2, error: `the record is longer than ${MAX_RECORD_BYTES} characters (an unclosed quote?): line 2 could not be read` }, { line: 3, fields: ['2'] }]);
    // An unclosed quote in a long file: the lines it swallows are named, and every row after them is read.
    const rows = Array.from({ length: 10_000 }, (_, i) => (i === 2 ? `${i},"open quote` : `${i},cam ${i}`));
    const got = await all(csvRecords(chunked(Buffer.from(`id,name\n${rows.join('\n')}\n`), 65_536)));
    const bad = got.filter((r) => 'error' in r);
    expect(bad).toEqual([{ line: 4, error: expect.stringMatching(/^the record is longer than 65536 characters \(an unclosed quote\?\): lines 4-\d+ could not be read$/) }]);
    const to = Number(/lines 4-(\d+)/.exec((bad[0] as { error: string }).error)![1]);
    const read = got.filter((r) => 'fields' in r);
    // Every line is accounted for: read as a row, or named in the error.
    expect(read.length + (to - 4 + 1)).toBe(10_001);
    expect(read.at(-1)).toEqual({ line: 10_001, fields: ['9999', 'cam 9999'] });
  });

  it('writes fields that read back the same', async () => {
    const values = ['plain', 'a,b', 'say "hi"', 'two\nlines', ' padded ', '', 'Tom"s'];
    const text = values.map((v) => `x,${csvField(v)},y`).join('\n');
    expect((await all(csvRecords(chunked(Buffer.from(text), 5)))).map((r) => ('fields' in r ? r.fields[1] : r))).toEqual(values);
  });
});

describe('JSON records', () => {
  it.each([1, 5, 1000])('reads an array element by element, each with its line; a broken element spoils itself only (chunks of %i)', async (n) => {
    const text = '[\n{"id": "a", "name": "x]{"},\n{"id": "b",, "name": 1},\n{"id": "c",\n "name": "multi"}\n]\n';
    expect(await all(jsonRecords(chunked(Buffer.from(text), n)))).toEqual([
      { line: 2, value: { id: 'a', name: 'x]{' } },
      { line: 3, error: expect.stringMatching(/^not valid JSON/) },
      { line: 4, value: { id: 'c', name: 'multi' } },
    ]);
  });

  it('reads JSON Lines, and says when an array is not closed', async () => {
    expect(await all(jsonRecords(chunked(Buffer.from('{"id":"a"}\n\n{"id":"b"}\n'), 3)))).toEqual([
      { line: 1, value: { id: 'a' } }, { line: 3, value: { id: 'b' } },
    ]);
    expect(await all(jsonRecords(chunked(Buffer.from('[{"id":"a"},\n{"id":"b"'), 4)))).toEqual([
      { line: 1, value: { id: 'a' } }, { line: 2, error: 'the element is not closed before the end of the file' },
    ]);
    expect(await all(jsonRecords(chunked(Buffer.from('[{"id":"a"} {"id":"b"}]'), 4)))).toEqual([
      { line: 1, value: { id: 'a' } }, { line: 1, error: 'a missing comma between elements' }, { line: 1, value: { id: 'b' } },
    ]);
  });
});

describe('rows', () => {
  const ctx = { unitExists: (c: string) => ['369001001001', '369002000000'].includes(c), mayUse: (c: string) => c.startsWith('369001') };
  const good = { id: 'cam-1', name: 'Gate', unit: '369001001001', main_url: 'rtsp://cam.example:554/ch1' };

  it('checks a header: unknown, repeated and missing columns', () => {
    expect(headerColumns(['ID', 'name', 'unit', 'main_url'])).toEqual(['id', 'name', 'unit', 'main_url']);
    expect(() => headerColumns(['id', 'name', 'unit', 'url'])).toThrow(/unknown column "url" at position 4/);
    expect(() => headerColumns(['id', 'name', 'name', 'unit', 'main_url'])).toThrow(/name appears twice/);
    expect(() => headerColumns(['id', 'name', 'main_url'])).toThrow(/lacks the column unit/);
    expect(() => headerColumns(['id', 'name', 'unit'])).toThrow(/main_url or onvif_url/);
  });

  it.each([
    [{ id: 'a b' }, /id "a b" is not/],
    [{ unit: '12ab' }, /unit code "12ab" is not 6-20 digits/],
    [{ unit: '369009009009' }, /unit 369009009009 is not in the governance tree/],
    [{ unit: '369002000000' }, /outside your part of the tree/],
    [{ main_url: 'http://cam/x' }, /main_url must start with rtsp:\/\//],
    [{ main_url: 'not a url' }, /main_url is not a URL/],
    [{ main_url: 'rtsp://ad%E0min:p%ZZ@cam.example/ch1' }, /^main_url has a user name or password that is not well-formed percent-encoding$/],
    [{ main_url: '' }, /main_url and onvif_url are both empty/],
    [{ onvif_url: 'rtsp://x/onvif' }, /onvif_url must start with http/],
    [{ latitude: '91', longitude: '100' }, /latitude "91" is not a number between -90 and 90/],
    [{ latitude: '30' }, /give both or neither/],
    [{ kind: 'tower' }, /kind "tower" is not one of/],
    [{ name: ' ' }, /name is empty/],
  ])('refuses %j', (patch, reason) => {
    const r = checkRow({ ...good, ...patch }, ctx);
    expect('problem' in r && r.problem.text).toMatch(reason);
  });

  it('moves credentials out of a URL into the fields that are encrypted', () => {
    const r = checkRow({ ...good, main_url: 'rtsp://admin:p%40ss@cam.example/ch1', sub_url: 'rtsp://cam.example/ch2' }, ctx);
    expect(r).toEqual({
      credentialsInUrl: true,
      camera: expect.objectContaining({ mainUrl: 'rtsp://cam.example/ch1', username: 'admin', password: 'p@ss', kind: 'other', latitude: null }),
    });
  });
});
