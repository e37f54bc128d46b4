// Mediation cases and room recordings over HTTP: searched within the caller's subtree, a case edited by its mediator
// (or an administrator above it), exported as a PDF; a recording's files played (with ranges) by those who were
// invited to the room or lead a unit above it, and checked against their fingerprints in the audit trail.
import { createReadStream, statSync } from 'node:fs';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { HttpDeps } from '../http/deps.js';
import { AppError } from '../http/errors.js';
import { auditBy, requireAuth } from '../http/auth-plugin.js';
import { agreementHash, casePdf, cjkFont, DISPUTE_TYPES } from './cases.js';
import { OUTCOMES, type MediationCase, type Outcome, type RecordingRecord } from './room-store.js';

const CaseBody = Type.Object({
  id: Type.Integer(), caseNo: Type.String(), room: Type.Union([Type.String(), Type.Null()]), unit: Type.String(), unitName: Type.String(), title: Type.String(), disputeType: Type.String(),
  mediator: Type.Union([Type.Integer(), Type.Null()]), mediatorName: Type.String(), parties: Type.Array(Type.String()), startedAt: Type.Number(), endedAt: Type.Union([Type.Number(), Type.Null()]),
  outcome: Type.Union([Type.String(), Type.Null()]), minutes: Type.String(), agreement: Type.String(), agreementSha256: Type.String(),
  confirmations: Type.Array(Type.Object({ party: Type.String(), at: Type.Number(), current: Type.Boolean() })), updatedAt: Type.Number(), editable: Type.Boolean(),
});
const FileBody = Type.Object({ name: Type.String(), kind: Type.String(), participantName: Type.Optional(Type.String()), kinds: Type.Optional(Type.Array(Type.String())), startMs: Type.Optional(Type.Number()), endMs: Type.Optional(Type.Number()), bytes: Type.Number(), sha256: Type.String(), auditId: Type.Number() });
const RecordingBody = Type.Object({
  id: Type.String(), room: Type.String(), unit: Type.String(), startedAt: Type.Number(), stoppedAt: Type.Union([Type.Number(), Type.Null()]), durationMs: Type.Union([Type.Number(), Type.Null()]),
  state: Type.String(), progress: Type.Number(), error: Type.Union([Type.String(), Type.Null()]), files: Type.Array(FileBody),
});
const RecId = Type.String({ minLength: 8, maxLength: 32, pattern: '^[A-Za-z0-9_-]+$' });
const FileName = Type.String({ maxLength: 80, pattern: '^[A-Za-z0-9_.-]+\\.(mkv|mp4)$' });
const Patch = Type.Object({
  title: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  disputeType: Type.Optional(Type.Union(DISPUTE_TYPES.map((k) => Type.Literal(k)))),
  parties: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 60 }), { maxItems: 20 })),
  outcome: Type.Optional(Type.Union([...OUTCOMES.map((k) => Type.Literal(k)), Type.Null()])),
  minutes: Type.Optional(Type.String({ maxLength: 20_000 })),
  agreement: Type.Optional(Type.String({ maxLength: 20_000 })),
}, { additionalProperties: false, minProperties: 1 });

/** caseRoutes serves /api/cases and /api/recordings. */
export async function caseRoutes(app: FastifyInstance, deps: HttpDeps): Promise<void> {
  const need = () => {
    if (!deps.rooms) throw new AppError('stream-unavailable', 'rooms need WebRTC, which is off on this gateway (media.webrtc)', { reason: 'webrtc-off' });
    return deps.rooms;
  };
  /** mayEdit: the case's mediator, or an administrator whose subtree holds it. */
  const mayEdit = (req: FastifyRequest, c: MediationCase) => {
    const { user, subject } = requireAuth(req);
    return c.mediator === user.id || (subject.roles.includes('admin') && deps.access.canSeeUnit(subject, c.unit));
  };
  /** visibleCase returns a case of the caller's subtree (or one she mediates); another answers as if it did not exist. */
  const visibleCase = (req: FastifyRequest): MediationCase => {
    const { user, subject } = requireAuth(req);
    const c = need().store.case(Number((req.params as { id: string }).id));
    if (!c || !(c.mediator === user.id || deps.access.canSeeUnit(subject, c.unit))) throw new AppError('not-found', 'no such case in your part of the tree', { reason: 'case-unknown' });
    return c;
  };
  const caseBody = (req: FastifyRequest, c: MediationCase) => {
    const sha = agreementHash(c.agreement);
    return {
      ...c, unitName: deps.catalog.unitName(c.unit) ?? c.unit, agreementSha256: sha, editable: mayEdit(req, c),
      confirmations: c.confirmations.map((x) => ({ party: x.party, at: x.at, current: x.agreementSha256 === sha })),
    };
  };
  /** visibleRecording: who was invited to the room, or an administrator or mediator whose subtree holds its unit. */
  const visibleRecording = (req: FastifyRequest): RecordingRecord => {
    const { user, subject } = requireAuth(req);
    const r = need();
    const rec = r.store.recording((req.params as { id: string }).id);
    const room = rec ? r.store.room(rec.room) : undefined;
    const may = rec && room && (room.members.includes(user.id) || (subject.roles.some((x) => x === 'admin' || x === 'mediator') && deps.access.canSeeUnit(subject, rec.unit)));
    if (!rec || !may) throw new AppError('not-found', 'no such recording among yours', { reason: 'recording-unknown' });
    return rec;
  };
  const recordingBody = (rec: RecordingRecord) => ({ ...rec, files: rec.files.map(({ participant: _p, ...f }) => f) });

  app.get('/api/cases', {
    schema: {
      tags: ['cases'],
      querystring: Type.Object({
        q: Type.Optional(Type.String({ maxLength: 100 })), outcome: Type.Optional(Type.Union(OUTCOMES.map((k) => Type.Literal(k)))), disputeType: Type.Optional(Type.Union(DISPUTE_TYPES.map((k) => Type.Literal(k)))),
        from: Type.Optional(Type.Integer({ minimum: 0 })), to: Type.Optional(Type.Integer({ minimum: 0 })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })), offset: Type.Optional(Type.Integer({ minimum: 0 })),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ total: Type.Integer(), cases: Type.Array(CaseBody) }) },
    },
  }, async (req) => {
    const { user } = requireAuth(req);
    const q = req.query as { q?: string; outcome?: Outcome; disputeType?: string; from?: number; to?: number; limit?: number; offset?: number };
    const found = need().store.searchCases({
      units: deps.access.tree.subtree(user.unit).map((u) => u.code), ...(q.q ? { q: q.q } : {}), ...(q.outcome ? { outcome: q.outcome } : {}),
      ...(q.disputeType ? { disputeType: q.disputeType } : {}), ...(q.from !== undefined ? { from: q.from } : {}), ...(q.to !== undefined ? { to: q.to } : {}), limit: q.limit ?? 50, offset: q.offset ?? 0,
    });
    return { total: found.total, cases: found.cases.map((c) => caseBody(req, c)) };
  });

  const CaseParams = Type.Object({ id: Type.String({ pattern: '^[0-9]{1,12}$' }) });
  app.get('/api/cases/:id', { schema: { tags: ['cases'], params: CaseParams, response: { 200: Type.Object({ case: CaseBody, recordings: Type.Array(RecordingBody) }) } } }, async (req) => {
    const c = visibleCase(req);
    return { case: caseBody(req, c), recordings: c.room ? need().store.recordingsOf(c.room).map(recordingBody) : [] };
  });

  app.patch('/api/cases/:id', { schema: { tags: ['cases'], params: CaseParams, body: Patch, response: { 200: CaseBody } } }, async (req) => {
    const c = visibleCase(req);
    if (!mayEdit(req, c)) throw new AppError('forbidden', 'the case is edited by its mediator or an administrator above it', { reason: 'case-mediator-only' });
    const b = req.body as { title?: string; disputeType?: string; parties?: string[]; outcome?: Outcome | null; minutes?: string; agreement?: string };
    const changed = Object.keys(b);
    // A changed agreement text leaves earlier confirmations kept but not current (they were bound to the old text's hash).
    const made = need().store.updateCase(c.id, b);
    auditBy(deps, req, 'case.update', { detail: { case: c.caseNo, fields: changed.join(','), ...(b.agreement !== undefined ? { agreementSha256: agreementHash(b.agreement) } : {}), ...(b.outcome !== undefined ? { outcome: b.outcome } : {}) } });
    return caseBody(req, made);
  });

  app.get('/api/cases/:id/pdf', { schema: { tags: ['cases'], params: CaseParams, querystring: Type.Object({ lang: Type.Optional(Type.Union([Type.Literal('zh-CN'), Type.Literal('en')])) }, { additionalProperties: false }) } }, async (req, reply) => {
    const c = visibleCase(req);
    const { user } = requireAuth(req);
    const font = cjkFont();
    if (!font) throw new AppError('stream-unavailable', 'no font with Chinese characters on this machine (install fonts-droid-fallback)', { reason: 'pdf-font-missing' });
    const pdf = await casePdf(c, {
      unitName: deps.catalog.unitName(c.unit) ?? c.unit, recordings: c.room ? need().store.recordingsOf(c.room) : [], exportedBy: user.displayName || user.username,
      lang: (req.query as { lang?: 'zh-CN' | 'en' }).lang ?? 'zh-CN', font,
    });
    auditBy(deps, req, 'case.export', { detail: { case: c.caseNo, bytes: pdf.length } });
    return reply.header('content-type', 'application/pdf').header('cache-control', 'no-store')
      .header('content-disposition', `attachment; filename="case-${c.caseNo.replace(/[^A-Za-z0-9-]/g, '_')}.pdf"`).send(pdf);
  });

  app.get('/api/recordings/:id', { schema: { tags: ['cases'], params: Type.Object({ id: RecId }), response: { 200: RecordingBody } } }, async (req) => recordingBody(visibleRecording(req)));

  app.get('/api/recordings/:id/verify', {
    schema: { tags: ['cases'], params: Type.Object({ id: RecId }), response: { 200: Type.Object({ ok: Type.Boolean(), chain: Type.Boolean(), files: Type.Array(Type.Object({ name: Type.String(), ok: Type.Boolean(), fault: Type.Optional(Type.String()), sha256: Type.Optional(Type.String()) })) }) } },
  }, async (req) => {
    const rec = visibleRecording(req);
    // The files match the entries that hold their fingerprints, and those entries are links of an unbroken chain.
    const { files, chain } = await need().recordings.verify(rec);
    auditBy(deps, req, 'recording.verify', { detail: { recording: rec.id, ok: files.every((f) => f.ok) && chain } });
    return { ok: files.length > 0 && files.every((f) => f.ok) && chain, chain, files };
  });

  app.get('/api/recordings/:id/files/:name', { schema: { tags: ['cases'], params: Type.Object({ id: RecId, name: FileName }) } }, async (req, reply) => {
    const rec = visibleRecording(req);
    const path = need().recordings.pathOf(rec, (req.params as { name: string }).name);
    if (!path) throw new AppError('not-found', 'no such file in the recording', { reason: 'recording-file-unknown' });
    const size = statSync(path).size;
    reply.header('accept-ranges', 'bytes').header('cache-control', 'private, no-store').type(path.endsWith('.mp4') ? 'video/mp4' : 'video/x-matroska');
    // One byte range (what players ask for when they seek); anything else gets the whole file.
    const m = /^bytes=(\d*)-(\d*)$/.exec(String(req.headers.range ?? ''));
    if (m && (m[1] || m[2])) {
      const start = m[1] ? Number(m[1]) : Math.max(0, size - Number(m[2]));
      const end = m[1] && m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
      if (start >= size || start > end) return reply.code(416).header('content-range', `bytes */${size}`).send();
      return reply.code(206).header('content-range', `bytes ${start}-${end}/${size}`).header('content-length', end - start + 1).send(createReadStream(path, { start, end }));
    }
    return reply.header('content-length', size).send(createReadStream(path));
  });
}
