// Bulk import and export of cameras by administrators, inside their own part of the tree.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { Readable } from 'node:stream';
import { ImportRefused, type ImportJob } from '../../catalog/import/import-jobs.js';
import { exportCameras } from '../../catalog/import/exporter.js';
import { idFitsReach } from '../../catalog/camera-id.js';
import type { ImportFormat, TextEncodingName } from '../../catalog/import/records.js';
import type { HttpDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { auditBy, requireAdmin } from '../auth-plugin.js';
import { ExportQuery, ImportJobBody, ImportQuery } from '../schemas.js';

function jobBody(job: ImportJob) {
  return {
    id: job.id, state: job.state, startedAt: job.startedAt, progress: job.progress,
    ...(job.error ? { error: job.error, ...(job.errorCode ? { errorCode: job.errorCode } : {}), ...(job.errorParams ? { errorParams: job.errorParams } : {}) } : {}),
    ...(job.report ? {
      report: {
        format: job.report.format, dryRun: job.report.dryRun, durationMs: job.report.durationMs, movedCredentials: job.report.movedCredentials,
        rejections: job.report.rejections,
        ...(job.report.stopped ? { stopped: job.report.stopped } : {}),
      },
    } : {}),
  };
}

/** catalogRoutes serves /api/catalog/imports and /api/catalog/export. Registered encapsulated: its body parsers stay here. */
export async function catalogRoutes(app: FastifyInstance, deps: HttpDeps): Promise<void> {
  // Files arrive raw, as a stream: they are spooled to disk as they come, and the importer reads them row by row.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

  app.post('/api/catalog/imports', {
    schema: { tags: ['catalog'], querystring: ImportQuery, response: { 202: ImportJobBody } },
  }, async (req, reply) => {
    const auth = requireAdmin(req, 'import and export cameras');
    const q = req.query as { format?: ImportFormat; encoding: TextEncodingName; dryRun: boolean };
    const type = req.headers['content-type'] ?? '';
    const format: ImportFormat | undefined = q.format ?? (/csv/i.test(type) ? 'csv' : /json/i.test(type) ? 'json' : undefined);
    if (!format) throw new AppError('bad-request', `say the format: ?format=csv or ?format=json (Content-Type ${JSON.stringify(type)} does not tell)`, { reason: 'import-format' });
    if (!(req.body instanceof Readable)) throw new AppError('bad-request', 'the request has no file: send the CSV or JSON as the body', { reason: 'import-empty' });
    let body;
    try {
      body = await deps.imports.spool(auth.user.id, req.body);
    } catch (err) {
      if (err instanceof ImportRefused) throw new AppError(err.kind, err.message, { reason: `import-${err.kind}`, ...err.params }, { refusal: true });
      throw err;
    }
    if (body.bytes === 0) throw new AppError('bad-request', 'the request has no file: send the CSV or JSON as the body', { reason: 'import-empty' });
    const tree = deps.access.tree;
    let job;
    try {
      job = deps.imports.start(auth.user.id, body, {
      format, encoding: q.encoding, dryRun: q.dryRun,
      unitExists: (code) => tree.get(code) !== undefined,
      mayUse: (code) => tree.contains(auth.subject.unit, code),
      mayUseId: (id) => idFitsReach(tree, auth.subject.unit, id),
      ownerOf: (id) => deps.access.unitOf(id),
      });
    } catch (err) {
      if (err instanceof ImportRefused) throw new AppError(err.kind, err.message, { reason: `import-${err.kind}`, ...err.params }, { refusal: true });
      throw err;
    }
    req.log.info({ job: job.id, format, bytes: body.bytes, dryRun: q.dryRun }, 'import started');
    auditBy(deps, req, 'catalog.import', { detail: { job: job.id, format, bytes: body.bytes, dryRun: q.dryRun } });
    return reply.status(202).send(jobBody(job));
  });

  app.get('/api/catalog/imports/:id', {
    schema: { tags: ['catalog'], params: Type.Object({ id: Type.String({ maxLength: 64 }) }), response: { 200: ImportJobBody } },
  }, async (req) => {
    const auth = requireAdmin(req, 'import and export cameras');
    const job = deps.imports.get((req.params as { id: string }).id, auth.user.id);
    if (!job) throw new AppError('not-found', 'no such import of yours (reports are kept for an hour)', { reason: 'import-unknown' });
    return jobBody(job);
  });

  app.get('/api/catalog/imports/:id/rejections.csv', {
    schema: { tags: ['catalog'], params: Type.Object({ id: Type.String({ maxLength: 64 }) }) },
  }, async (req, reply) => {
    const auth = requireAdmin(req, 'import and export cameras');
    const stream = deps.imports.rejections((req.params as { id: string }).id, auth.user.id);
    if (!stream) throw new AppError('not-found', 'no finished import of yours with that id', { reason: 'import-unknown' });
    return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="rejected-rows.csv"').send(stream);
  });

  app.get('/api/catalog/export', { schema: { tags: ['catalog'], querystring: ExportQuery } }, async (req, reply) => {
    const auth = requireAdmin(req, 'import and export cameras');
    const { format, unit = auth.subject.unit } = req.query as { format: ImportFormat; unit?: string };
    if (!deps.access.canSeeUnit(auth.subject, unit)) throw new AppError('not-found', `no unit ${unit} in your part of the tree`, { reason: 'unit-unknown', unit });
    const ids = deps.access.camerasUnder(unit);
    const rows = (function* () {
      for (const id of ids) {
        const c = deps.catalog.camera(id);
        if (c) yield c;
      }
    })();
    auditBy(deps, req, 'catalog.export', { detail: { unit, format, cameras: ids.length } });
    return reply
      .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="cameras-${unit}.${format}"`)
      .send(Readable.from(exportCameras(rows, format)));
  });
}
