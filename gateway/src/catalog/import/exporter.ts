// Export of cameras in the import formats, so that an exported file imports back unchanged. Passwords never leave:
// their column is empty, and an empty password on import keeps the stored one.
import type { Camera } from '../catalog.js';
import { COLUMNS, type Column } from './camera-row.js';
import type { ImportFormat } from './records.js';
import { guardFormula } from './csv-formula.js';

function fieldsOf(c: Camera): Record<Column, string | number | null> {
  return {
    id: c.id, name: c.name, unit: c.unit, kind: c.kind, latitude: c.latitude, longitude: c.longitude,
    main_url: c.mainUrl, sub_url: c.subUrl, onvif_url: c.onvifUrl, username: c.username, password: null, transport: c.transport,
  };
}

/** csvField writes one field: text guarded against formulas, quoted when it holds a comma, a quote, a line end or surrounding spaces. */
export function csvField(v: string | number | null): string {
  if (v === null) return '';
  const s = typeof v === 'string' ? guardFormula(v) : String(v);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** exportCameras yields the file in pieces (a header, then one line per camera). */
export function* exportCameras(cameras: Iterable<Camera>, format: ImportFormat): Generator<string> {
  if (format === 'csv') {
    yield COLUMNS.join(',') + '\n';
    for (const c of cameras) {
      const f = fieldsOf(c);
      yield COLUMNS.map((k) => csvField(f[k])).join(',') + '\n';
    }
    return;
  }
  let first = true;
  yield '[';
  for (const c of cameras) {
    const { password: _password, ...f } = fieldsOf(c);
    const kept = Object.fromEntries(Object.entries(f).filter(([, v]) => v !== null));
    yield (first ? '\n' : ',\n') + JSON.stringify(kept);
    first = false;
  }
  yield '\n]\n';
}
