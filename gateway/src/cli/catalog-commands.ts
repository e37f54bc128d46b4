// The catalog commands of the CLI: import and export cameras straight in the store, with a progress bar.
import { createReadStream, createWriteStream, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { words } from './cli-words.js';
import { once } from 'node:events';
import type { Config } from '../../../config/schema.js';
import { Catalog } from '../catalog/catalog.js';
import { exportCameras } from '../catalog/import/exporter.js';
import { RejectionFile } from '../catalog/import/rejection-file.js';
import { importCameras, ImportFileError, type ImportProgress } from '../catalog/import/importer.js';
import type { ImportFormat, TextEncodingName } from '../catalog/import/records.js';
import { CredentialCipher } from '../secrets/credential-cipher.js';
import { MasterKey } from '../secrets/master-key.js';
import { openDatabase } from '../store/database.js';
import { OrgTree, type OrgUnit } from '../access/org-tree.js';

/** pidFileOf is where a gateway serving a store writes its pid, so that the CLI can tell it the catalog changed. */
export function pidFileOf(config: Config): string {
  return `${config.store.path}.pid`;
}

function formatOf(path: string, given: string | undefined): ImportFormat {
  const f = given ?? (/\.csv$/i.test(path) ? 'csv' : /\.(json|jsonl|ndjson)$/i.test(path) ? 'json' : undefined);
  if (f !== 'csv' && f !== 'json') throw new Error(`say the format with --format csv or --format json (${JSON.stringify(path)} does not tell)`);
  return f;
}

/** ProgressBar draws on a terminal and prints a line per tenth elsewhere (CI logs). */
class ProgressBar {
  #tty = process.stderr.isTTY === true;
  #lastTenth = -1;
  #last = 0;
  #lastText = '';

  update(p: ImportProgress, force = false): void {
    const fraction = p.bytesTotal ? Math.min(1, p.bytesRead / p.bytesTotal) : 0;
    const text = words().progress(`${(fraction * 100).toFixed(0).padStart(3)}%`, p);
    if (this.#tty) {
      const now = Date.now();
      if (!force && now - this.#last < 100) return;
      this.#last = now;
      const width = 30;
      const done = Math.round(fraction * width);
      process.stderr.write(`\r[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${text}\x1b[K`);
      return;
    }
    const tenth = Math.floor(fraction * 10);
    if ((tenth > this.#lastTenth || force) && text !== this.#lastText) {
      this.#lastTenth = tenth;
      this.#lastText = text;
      process.stderr.write(`${words().importing}: ${text}\n`);
    }
  }

  end(): void {
    if (this.#tty) process.stderr.write('\n');
  }
}

/** openCatalog opens the store of a configuration with its governance tree. */
export function openCatalog(config: Config) {
  const db = openDatabase(config.store.path);
  const key = MasterKey.loadOrCreate(config.secrets.keyFile);
  const catalog = new Catalog(db, new CredentialCipher(key.derive('camera-credentials')));
  const units = db.prepare('SELECT code, parent, name, level FROM units').all() as OrgUnit[];
  if (units.length === 0) {
    db.close();
    throw new Error(`the store ${config.store.path} holds no governance tree yet: start the gateway once (it seeds the demo) or import units first`);
  }
  return { db, catalog, tree: new OrgTree(units) };
}

/** tellGateway asks a gateway running on the same store to reload its catalog; it says whether one was told. */
export function tellGateway(config: Config): boolean {
  const pidFile = pidFileOf(config);
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  try {
    process.kill(pid, 'SIGHUP');
    return true;
  } catch {
    return false;
  }
}

/** runImport imports a file and prints the report; it returns the process exit code. */
export async function runImport(config: Config, path: string, opts: { format?: string; encoding?: string; dryRun?: boolean; report?: string }): Promise<number> {
  if (!existsSync(path)) throw new Error(`no file ${path}`);
  const format = formatOf(path, opts.format);
  const encoding = (opts.encoding ?? 'utf-8').toLowerCase();
  if (encoding !== 'utf-8' && encoding !== 'gb18030' && encoding !== 'gbk') throw new Error(`--encoding ${encoding}: use utf-8 or gb18030 (which also reads GBK)`);
  const { db, catalog, tree } = openCatalog(config);
  const bar = new ProgressBar();
  // Every rejected row goes to the report file as it is found; memory keeps the 20 shown here.
  const reportPath = opts.report ?? `${path}.rejected.csv`;
  const sink = new RejectionFile(reportPath);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  try {
    const report = await importCameras(catalog, createReadStream(path, { highWaterMark: 256 * 1024 }), {
      format, encoding: (encoding === 'gbk' ? 'gb18030' : encoding) as TextEncodingName, dryRun: opts.dryRun, bytesTotal: statSync(path).size,
      unitExists: (code) => tree.get(code) !== undefined,
      mayUse: () => true,
      ownerOf: (id) => (db.prepare('SELECT unit FROM cameras WHERE id = ?').get(id) as { unit: string } | undefined)?.unit,
      onProgress: (p) => bar.update(p),
      signal: controller.signal,
      rejectionSink: sink, keepRejections: 20, maxRows: config.imports.maxRows,
    });
    sink.close();
    bar.update(report, true);
    bar.end();
    const out = process.stdout;
    const w = words();
    out.write(`${w.summary(report, !!opts.dryRun)}\n`);
    if (report.movedCredentials > 0) out.write(`${w.moved(report.movedCredentials)}\n`);
    if (controller.signal.aborted) out.write(`${w.interrupted}\n`);
    if (report.stopped) out.write(`${w.stopped(report.stopped.line, config.imports.maxRows)}\n`);
    if (report.rejected > 0) {
      for (const r of report.rejections) out.write(`${w.rejectedRow(r.line, r.id, r.reason, r.code)}\n`);
      if (report.rejected > report.rejections.length) out.write(`${w.more(report.rejected - report.rejections.length)}\n`);
      out.write(`${w.report(reportPath)}\n`);
    } else {
      rmSync(reportPath, { force: true });
    }
    if (!opts.dryRun && report.added + report.updated > 0 && tellGateway(config)) out.write(`${w.told}\n`);
    return report.rejected > 0 ? 3 : 0;
  } catch (err) {
    bar.end();
    if (err instanceof ImportFileError) {
      sink.close();
      rmSync(reportPath, { force: true });
      process.stderr.write(`${words().fileFailed(path, err.message, err.problem.reason)}\n`);
      return 2;
    }
    throw err;
  } finally {
    sink.close();
    process.off('SIGINT', onSignal);
    db.close();
  }
}

/** runExport writes the cameras of a unit's subtree (the whole catalog by default) to a file. */
export async function runExport(config: Config, path: string, opts: { format?: string; unit?: string }): Promise<number> {
  const format = formatOf(path, opts.format);
  const { db, catalog, tree } = openCatalog(config);
  try {
    const unit = opts.unit ?? tree.root.code;
    if (!tree.get(unit)) throw new Error(`no unit ${unit} in the governance tree`);
    let count = 0;
    const cameras = (function* () {
      for (const c of catalog.cameras()) {
        if (!tree.contains(unit, c.unit)) continue;
        count++;
        yield c;
      }
    })();
    const file = createWriteStream(path);
    for (const piece of exportCameras(cameras, format)) {
      if (!file.write(piece)) await once(file, 'drain');
    }
    file.end();
    await once(file, 'finish');
    process.stdout.write(`${words().exported(count, tree.get(unit)!.name, unit, path)}\n`);
    return 0;
  } finally {
    db.close();
  }
}
