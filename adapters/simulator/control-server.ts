// A small HTTP endpoint (loopback) to read and flip the fault knobs of simulated cameras while they run.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { CAMERA_ID, type CameraFarm } from './camera-farm.js';
import type { RtspServer } from './rtsp-server.js';

const MAX_BODY = 16 * 1024;
/** MAX_BULK_BODY bounds a bulk change: 100,000 camera ids. */
const MAX_BULK_BODY = 4 * 1024 * 1024;

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage, limit = MAX_BODY): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new TypeError(`body exceeds ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TypeError(`body is not JSON: ${(err as Error).message}`);
  }
}

/**
 * createControlServer serves GET/PUT/DELETE /cameras/:id/faults, DELETE /cameras/:id/sessions (the camera restarts its
 * stream), GET /faults, PUT /faults (the same knobs for many cameras at once: {"cameras": [...], "faults": {...}}, as
 * when a whole township loses power), GET /cameras/:id/sent?frame=N (when the counter clip's picture N was last sent,
 * for glass-to-glass latency) and GET /health.
 */
export function createControlServer(farm: CameraFarm, rtsp: RtspServer): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://control');
    const m = /^\/cameras\/([^/]+)\/faults$/.exec(url.pathname);
    void (async () => {
      if (req.method === 'GET' && url.pathname === '/health') return send(res, 200, { ok: true, playing: rtsp.playing });
      if (req.method === 'GET' && url.pathname === '/faults') return send(res, 200, farm.faulty());
      if (req.method === 'PUT' && url.pathname === '/faults') {
        const body = await readJson(req, MAX_BULK_BODY) as { cameras?: unknown; faults?: unknown };
        if (!Array.isArray(body?.cameras) || body.cameras.some((c) => typeof c !== 'string' || !CAMERA_ID.test(c))) throw new TypeError('cameras must be an array of camera ids');
        if (typeof body.faults !== 'object' || body.faults === null || Array.isArray(body.faults)) throw new TypeError('faults must be a JSON object of fault knobs');
        for (const id of body.cameras as string[]) {
          const faults = farm.setFaults(id, body.faults as Record<string, unknown>);
          if (faults.offline || 'password' in body.faults) rtsp.dropCamera(id);
        }
        return send(res, 200, { cameras: body.cameras.length });
      }
      const sent = /^\/cameras\/([^/]+)\/sent$/.exec(url.pathname);
      if (sent && req.method === 'GET') {
        const id = decodeURIComponent(sent[1]!);
        const frame = Number(url.searchParams.get('frame'));
        if (!CAMERA_ID.test(id)) throw new TypeError(`invalid camera id ${JSON.stringify(id)}`);
        if (!Number.isInteger(frame) || frame < 0 || frame > 100_000) throw new TypeError('frame must be a picture index');
        // The page that reads the index may be another origin (the gateway's console): the answer is public test data.
        res.setHeader('access-control-allow-origin', '*');
        return send(res, 200, { frame, sentAt: rtsp.sentAt(id, frame) });
      }
      const drop = /^\/cameras\/([^/]+)\/sessions$/.exec(url.pathname);
      // Ending a camera's sessions is what a camera that reboots or restarts its encoder does to its clients.
      if (drop && req.method === 'DELETE') {
        const id = decodeURIComponent(drop[1]!);
        if (!CAMERA_ID.test(id)) throw new TypeError(`invalid camera id ${JSON.stringify(id)}`);
        rtsp.dropCamera(id);
        return send(res, 200, {});
      }
      if (!m) return send(res, 404, { error: `no route ${req.method} ${url.pathname}` });
      const id = decodeURIComponent(m[1]!);
      if (req.method === 'GET') return send(res, 200, farm.faults(id));
      if (req.method === 'DELETE') {
        farm.clearFaults(id);
        return send(res, 200, {});
      }
      if (req.method === 'PUT') {
        const body = await readJson(req);
        if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new TypeError('body must be a JSON object of fault knobs');
        const faults = farm.setFaults(id, body as Record<string, unknown>);
        if (faults.offline || 'password' in (body as object)) rtsp.dropCamera(id);
        return send(res, 200, faults);
      }
      return send(res, 405, { error: `method ${req.method} not allowed` });
    })().catch((err: unknown) => send(res, err instanceof TypeError ? 400 : 500, { error: err instanceof Error ? err.message : String(err) }));
  });
}
