// One camera of an import file: the columns, and the checks that turn a row into a camera or into a reason.
import type { CameraKind, CameraTransport, NewCamera } from '../catalog.js';
import { CAMERA_KINDS, CAMERA_TRANSPORTS } from '../catalog.js';
import { unguardFormula } from './csv-formula.js';
import { isWellFormed } from '../../store/well-formed.js';
import { isProblem, problem, ProblemError, type Problem } from '../../problem.js';

/** COLUMNS are the fields of a camera in CSV and JSON files, in export order. */
export const COLUMNS = ['id', 'name', 'unit', 'kind', 'latitude', 'longitude', 'main_url', 'sub_url', 'onvif_url', 'username', 'password', 'transport'] as const;
export type Column = (typeof COLUMNS)[number];

/** REQUIRED_COLUMNS must be in every CSV header. */
export const REQUIRED_COLUMNS: readonly Column[] = ['id', 'name', 'unit'];

const CAMERA_ID = /^[A-Za-z0-9_-]{1,64}$/;
const UNIT_CODE = /^[0-9]{6,20}$/;
const MAX_NAME = 128;
const MAX_URL = 1024;

/** RowContext is what a row is checked against. */
export interface RowContext {
  /** unitExists says whether a unit code is in the tree. */
  unitExists(code: string): boolean;
  /** mayUse says whether the importing user may place cameras in a unit (her subtree). */
  mayUse(code: string): boolean;
  /** mayUseId says whether she may give a camera this id (a GB/T 28181 id names its county); absent: any id. */
  mayUseId?(id: string): boolean;
}

/** RowResult is a camera ready to write, or why the row was refused. */
export type RowResult = { camera: NewCamera; credentialsInUrl: boolean } | { problem: Problem };

/** headerColumns checks a CSV header and returns the column of each position; it throws a message for a bad header. */
export function headerColumns(fields: string[]): Column[] {
  const seen = new Set<string>();
  const out: Column[] = [];
  for (const [i, raw] of fields.entries()) {
    const name = raw.trim().toLowerCase();
    if (!(COLUMNS as readonly string[]).includes(name)) {
      throw new ProblemError(problem('header-unknown-column', `unknown column ${JSON.stringify(raw)} at position ${i + 1} of the header (known columns: ${COLUMNS.join(', ')})`, { column: raw.slice(0, 64), position: i + 1 }));
    }
    if (seen.has(name)) throw new ProblemError(problem('header-twice', `column ${name} appears twice in the header`, { column: name }));
    seen.add(name);
    out.push(name as Column);
  }
  const missing = REQUIRED_COLUMNS.filter((c) => !seen.has(c));
  if (missing.length > 0) throw new ProblemError(problem('header-missing', `the header lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, { columns: missing.join(', ') }));
  if (!seen.has('main_url') && !seen.has('onvif_url')) throw new ProblemError(problem('header-no-address', 'the header needs main_url or onvif_url (or both)'));
  return out;
}

/**
 * rowFromCsv pairs a record's fields with the header's columns. A field guarded against spreadsheet formulas by our
 * export ('=cam) reads back as it was (=cam): exporting and importing again changes nothing.
 */
export function rowFromCsv(columns: readonly Column[], fields: string[]): Partial<Record<Column, string>> | Problem {
  if (fields.length !== columns.length) return problem('row-columns', `${fields.length} columns where the header has ${columns.length}`, { got: fields.length, want: columns.length });
  const row: Partial<Record<Column, string>> = {};
  columns.forEach((c, i) => { row[c] = unguardFormula(fields[i]!); });
  return row;
}

/** rowFromJson reads an element of a JSON file: an object whose values are strings, numbers or null. */
export function rowFromJson(value: unknown): Partial<Record<Column, string>> | Problem {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return problem('row-not-object', 'the element is not an object');
  const row: Partial<Record<Column, string>> = {};
  for (const [key, v] of Object.entries(value)) {
    if (!(COLUMNS as readonly string[]).includes(key)) return problem('row-unknown-field', `unknown field ${JSON.stringify(key)} (known fields: ${COLUMNS.join(', ')})`, { field: key.slice(0, 64) });
    if (v === null || v === undefined) continue;
    if (typeof v !== 'string' && typeof v !== 'number') return problem('row-field-type', `field ${key} must be a string or a number`, { field: key });
    // JSON can write a lone surrogate ("\ud800"), which the store cannot keep as it came.
    if (typeof v === 'string' && !isWellFormed(v)) return problem('row-bad-unicode', `field ${key} holds text that is not valid Unicode (a lone surrogate)`, { field: key });
    row[key as Column] = String(v);
  }
  return row;
}

function streamUrl(column: string, value: string): { url: string; username?: string; password?: string } | Problem {
  if (value.length > MAX_URL) return problem('url-long', `${column} is longer than ${MAX_URL} characters`, { field: column, max: MAX_URL });
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return problem('url-bad', `${column} is not a URL`, { field: column });
  }
  if (column === 'onvif_url' ? !['http:', 'https:'].includes(u.protocol) : !['rtsp:', 'rtsps:'].includes(u.protocol)) {
    return problem('url-scheme', `${column} must start with ${column === 'onvif_url' ? 'http:// or https://' : 'rtsp:// or rtsps://'}, not ${u.protocol}//`, { field: column, want: column === 'onvif_url' ? 'http:// https://' : 'rtsp:// rtsps://', got: `${u.protocol}//` });
  }
  if (!u.hostname) return problem('url-no-host', `${column} has no host`, { field: column });
  let username: string | undefined;
  let password: string | undefined;
  try {
    username = u.username ? decodeURIComponent(u.username) : undefined;
    password = u.password ? decodeURIComponent(u.password) : undefined;
  } catch {
    // Neither is said back: the row names the column, never the credentials.
    return problem('url-bad', `${column} has a user name or password that is not well-formed percent-encoding`, { field: column });
  }
  u.username = '';
  u.password = '';
  return { url: u.toString(), username, password };
}

function coordinate(column: string, value: string | undefined, limit: number): number | null | Problem {
  if (value === undefined || value.trim() === '') return null;
  const n = Number(value);
  if (!Number.isFinite(n) || Math.abs(n) > limit) return problem('coordinate', `${column} ${JSON.stringify(value)} is not a number between -${limit} and ${limit}`, { field: column, limit });
  return n;
}

/**
 * checkRow turns a row into a camera. Credentials written into a URL are moved out of it, so that they are encrypted
 * with the others; an empty password keeps the one the catalog already has.
 */
export function checkRow(row: Partial<Record<Column, string>>, ctx: RowContext): RowResult {
  const id = row.id?.trim() ?? '';
  if (!CAMERA_ID.test(id)) return { problem: id ? problem('id-bad', `id ${JSON.stringify(id)} is not 1-64 letters, digits, - or _`) : problem('field-empty', 'id is empty', { field: 'id' }) };
  if (ctx.mayUseId && !ctx.mayUseId(id)) return { problem: problem('id-region-outside', `id ${id} names region ${id.slice(0, 6)} (GB/T 28181), outside your part of the tree`, { region: id.slice(0, 6) }) };
  const name = row.name?.trim() ?? '';
  if (!name) return { problem: problem('field-empty', 'name is empty', { field: 'name' }) };
  if (name.length > MAX_NAME) return { problem: problem('name-long', `name is longer than ${MAX_NAME} characters`, { max: MAX_NAME }) };
  const unit = row.unit?.trim() ?? '';
  if (!UNIT_CODE.test(unit)) return { problem: unit ? problem('unit-code-bad', `unit code ${JSON.stringify(unit)} is not 6-20 digits`) : problem('field-empty', 'unit is empty', { field: 'unit' }) };
  if (!ctx.unitExists(unit)) return { problem: problem('unit-unknown', `unit ${unit} is not in the governance tree`, { unit }) };
  if (!ctx.mayUse(unit)) return { problem: problem('unit-outside', `unit ${unit} is outside your part of the tree`, { unit }) };
  const kind = (row.kind?.trim() || 'other') as CameraKind;
  if (!CAMERA_KINDS.includes(kind)) return { problem: problem('kind-bad', `kind ${JSON.stringify(row.kind)} is not one of ${CAMERA_KINDS.join(', ')}`) };
  const latitude = coordinate('latitude', row.latitude, 90);
  if (isProblem(latitude)) return { problem: latitude };
  const longitude = coordinate('longitude', row.longitude, 180);
  if (isProblem(longitude)) return { problem: longitude };
  if ((latitude === null) !== (longitude === null)) return { problem: problem('coordinates-pair', 'latitude and longitude go together: give both or neither') };
  const transport = (row.transport?.trim().toLowerCase() || 'auto') as CameraTransport;
  if (!CAMERA_TRANSPORTS.includes(transport)) return { problem: problem('transport-bad', `transport ${JSON.stringify(row.transport)} is not one of ${CAMERA_TRANSPORTS.join(', ')} (auto: TCP, then UDP)`) };

  const urls: Record<'main_url' | 'sub_url' | 'onvif_url', { url: string; username?: string; password?: string } | null> = { main_url: null, sub_url: null, onvif_url: null };
  for (const column of ['main_url', 'sub_url', 'onvif_url'] as const) {
    const value = row[column]?.trim();
    if (!value) continue;
    const parsed = streamUrl(column, value);
    if (isProblem(parsed)) return { problem: parsed };
    urls[column] = parsed;
  }
  if (!urls.main_url && !urls.onvif_url) return { problem: problem('no-address', 'main_url and onvif_url are both empty: give the stream address or the ONVIF endpoint') };
  const inUrl = [urls.main_url, urls.sub_url, urls.onvif_url].find((u) => u?.username);
  const username = row.username?.trim() || inUrl?.username || null;
  const password = row.password || inUrl?.password || undefined;
  return {
    camera: {
      id, name, unit, kind, latitude, longitude,
      mainUrl: urls.main_url?.url ?? null, subUrl: urls.sub_url?.url ?? null, onvifUrl: urls.onvif_url?.url ?? null,
      username, transport, ...(password ? { password } : {}),
    },
    credentialsInUrl: !!inUrl,
  };
}
