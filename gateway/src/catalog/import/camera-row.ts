// One camera of an import file: the columns, and the checks that turn a row into a camera or into a reason.
import type { CameraKind, CameraTransport, NewCamera } from '../catalog.js';
import { CAMERA_KINDS, CAMERA_TRANSPORTS } from '../catalog.js';
import { unguardFormula } from './csv-formula.js';
import { isWellFormed } from '../../store/well-formed.js';

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
export type RowResult = { camera: NewCamera; credentialsInUrl: boolean } | { reason: string };

/** headerColumns checks a CSV header and returns the column of each position; it throws a message for a bad header. */
export function headerColumns(fields: string[]): Column[] {
  const seen = new Set<string>();
  const out: Column[] = [];
  for (const [i, raw] of fields.entries()) {
    const name = raw.trim().toLowerCase();
    if (!(COLUMNS as readonly string[]).includes(name)) {
      throw new Error(`unknown column ${JSON.stringify(raw)} at position ${i + 1} of the header (known columns: ${COLUMNS.join(', ')})`);
    }
    if (seen.has(name)) throw new Error(`column ${name} appears twice in the header`);
    seen.add(name);
    out.push(name as Column);
  }
  const missing = REQUIRED_COLUMNS.filter((c) => !seen.has(c));
  if (missing.length > 0) throw new Error(`the header lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  if (!seen.has('main_url') && !seen.has('onvif_url')) throw new Error('the header needs main_url or onvif_url (or both)');
  return out;
}

/**
 * rowFromCsv pairs a record's fields with the header's columns. A field guarded against spreadsheet formulas by our
 * export ('=cam) reads back as it was (=cam): exporting and importing again changes nothing.
 */
export function rowFromCsv(columns: readonly Column[], fields: string[]): Partial<Record<Column, string>> | string {
  if (fields.length !== columns.length) return `${fields.length} columns where the header has ${columns.length}`;
  const row: Partial<Record<Column, string>> = {};
  columns.forEach((c, i) => { row[c] = unguardFormula(fields[i]!); });
  return row;
}

/** rowFromJson reads an element of a JSON file: an object whose values are strings, numbers or null. */
export function rowFromJson(value: unknown): Partial<Record<Column, string>> | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the element is not an object';
  const row: Partial<Record<Column, string>> = {};
  for (const [key, v] of Object.entries(value)) {
    if (!(COLUMNS as readonly string[]).includes(key)) return `unknown field ${JSON.stringify(key)} (known fields: ${COLUMNS.join(', ')})`;
    if (v === null || v === undefined) continue;
    if (typeof v !== 'string' && typeof v !== 'number') return `field ${key} must be a string or a number`;
    // JSON can write a lone surrogate ("\ud800"), which the store cannot keep as it came.
    if (typeof v === 'string' && !isWellFormed(v)) return `field ${key} holds text that is not valid Unicode (a lone surrogate)`;
    row[key as Column] = String(v);
  }
  return row;
}

function streamUrl(column: string, value: string): { url: string; username?: string; password?: string } | string {
  if (value.length > MAX_URL) return `${column} is longer than ${MAX_URL} characters`;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return `${column} is not a URL`;
  }
  if (column === 'onvif_url' ? !['http:', 'https:'].includes(u.protocol) : !['rtsp:', 'rtsps:'].includes(u.protocol)) {
    return `${column} must start with ${column === 'onvif_url' ? 'http:// or https://' : 'rtsp:// or rtsps://'}, not ${u.protocol}//`;
  }
  if (!u.hostname) return `${column} has no host`;
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  u.username = '';
  u.password = '';
  return { url: u.toString(), username, password };
}

function coordinate(column: string, value: string | undefined, limit: number): number | null | string {
  if (value === undefined || value.trim() === '') return null;
  const n = Number(value);
  if (!Number.isFinite(n) || Math.abs(n) > limit) return `${column} ${JSON.stringify(value)} is not a number between -${limit} and ${limit}`;
  return n;
}

/**
 * checkRow turns a row into a camera. Credentials written into a URL are moved out of it, so that they are encrypted
 * with the others; an empty password keeps the one the catalog already has.
 */
export function checkRow(row: Partial<Record<Column, string>>, ctx: RowContext): RowResult {
  const id = row.id?.trim() ?? '';
  if (!CAMERA_ID.test(id)) return { reason: id ? `id ${JSON.stringify(id)} is not 1-64 letters, digits, - or _` : 'id is empty' };
  if (ctx.mayUseId && !ctx.mayUseId(id)) return { reason: `id ${id} names region ${id.slice(0, 6)} (GB/T 28181), outside your part of the tree` };
  const name = row.name?.trim() ?? '';
  if (!name) return { reason: 'name is empty' };
  if (name.length > MAX_NAME) return { reason: `name is longer than ${MAX_NAME} characters` };
  const unit = row.unit?.trim() ?? '';
  if (!UNIT_CODE.test(unit)) return { reason: unit ? `unit code ${JSON.stringify(unit)} is not 6-20 digits` : 'unit is empty' };
  if (!ctx.unitExists(unit)) return { reason: `unit ${unit} is not in the governance tree` };
  if (!ctx.mayUse(unit)) return { reason: `unit ${unit} is outside your part of the tree` };
  const kind = (row.kind?.trim() || 'other') as CameraKind;
  if (!CAMERA_KINDS.includes(kind)) return { reason: `kind ${JSON.stringify(row.kind)} is not one of ${CAMERA_KINDS.join(', ')}` };
  const latitude = coordinate('latitude', row.latitude, 90);
  if (typeof latitude === 'string') return { reason: latitude };
  const longitude = coordinate('longitude', row.longitude, 180);
  if (typeof longitude === 'string') return { reason: longitude };
  if ((latitude === null) !== (longitude === null)) return { reason: 'latitude and longitude go together: give both or neither' };
  const transport = (row.transport?.trim().toLowerCase() || 'auto') as CameraTransport;
  if (!CAMERA_TRANSPORTS.includes(transport)) return { reason: `transport ${JSON.stringify(row.transport)} is not one of ${CAMERA_TRANSPORTS.join(', ')} (auto: TCP, then UDP)` };

  const urls: Record<'main_url' | 'sub_url' | 'onvif_url', { url: string; username?: string; password?: string } | null> = { main_url: null, sub_url: null, onvif_url: null };
  for (const column of ['main_url', 'sub_url', 'onvif_url'] as const) {
    const value = row[column]?.trim();
    if (!value) continue;
    const parsed = streamUrl(column, value);
    if (typeof parsed === 'string') return { reason: parsed };
    urls[column] = parsed;
  }
  if (!urls.main_url && !urls.onvif_url) return { reason: 'main_url and onvif_url are both empty: give the stream address or the ONVIF endpoint' };
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
