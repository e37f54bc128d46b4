// The audit trail for administrators: entries by users of their subtree or about its cameras, as a page or as CSV.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { csvField } from '../../catalog/import/exporter.js';
import type { HttpDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { requireAdmin } from '../auth-plugin.js';
import { AuditActionsBody, AuditPage, AuditQueryBody } from '../schemas.js';
import { AUDIT_ACTIONS } from '../../audit/actions.js';

/** auditRoutes serves /api/audit and /api/audit.csv; nothing edits an entry. */
export async function auditRoutes(app: FastifyInstance, deps: HttpDeps): Promise<void> {
  const scope = (req: FastifyRequest) => {
    const auth = requireAdmin(req, 'read the audit trail');
    const q = req.query as { from?: number; to?: number; action?: string; camera?: string; username?: string; unit?: string; limit: number; offset: number };
    const unit = q.unit ?? auth.subject.unit;
    if (!deps.access.canSeeUnit(auth.subject, unit)) throw new AppError('not-found', `no unit ${unit} in your part of the tree`, { reason: 'unit-unknown', unit });
    return { ...q, units: deps.access.tree.subtree(unit).map((u) => u.code), unattributed: unit === deps.access.tree.root.code };
  };

  app.get('/api/audit', { schema: { tags: ['audit'], querystring: AuditQueryBody, response: { 200: AuditPage } } }, async (req) => {
    const page = deps.audit.query(scope(req));
    // Each camera by its name beside its id (a camera deleted since keeps only its id).
    return { ...page, entries: page.entries.map((e) => ({ ...e, cameraName: e.camera ? deps.catalog.summary(e.camera)?.name ?? null : null })) };
  });

  app.get('/api/audit/actions', { schema: { tags: ['audit'], response: { 200: AuditActionsBody } } }, async (req) => {
    requireAdmin(req, 'read the audit trail');
    return { actions: [...AUDIT_ACTIONS] };
  });

  app.get('/api/audit.csv', { schema: { tags: ['audit'], querystring: AuditQueryBody } }, async (req, reply) => {
    const q = scope(req);
    const rows = (function* () {
      yield 'id,time,username,unit,action,camera,camera_unit,detail,remote,hash\n';
      // Pages of 1,000 newest first, up to 100,000 entries per export.
      for (let offset = 0; offset < 100_000; offset += 1000) {
        const page = deps.audit.query({ ...q, limit: 1000, offset });
        for (const e of page.entries) {
          yield [e.id, new Date(e.at).toISOString(), e.username, e.unit, e.action, e.camera, e.cameraUnit, JSON.stringify(e.detail), e.remote, e.hash].map((v) => csvField(v ?? null)).join(',') + '\n';
        }
        if (page.entries.length < 1000) return;
      }
    })();
    return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="audit.csv"').send(Readable.from(rows));
  });
}
