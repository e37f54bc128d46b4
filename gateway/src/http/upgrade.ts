// WebSocket upgrades outside fastify's routing (the event stream, walls and their displays, rooms): a refusal written
// on the raw socket before the upgrade, the first message a socket says who it is in (a browser cannot set headers on
// a WebSocket, and a secret in the URL would be written to logs on the way), and the audited refusal of a socket
// whose first message does not say it.
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { AuditView } from './deps.js';

/** refuseUpgrade answers an upgrade with an HTTP error (the console's stable code and reason) and closes the socket. */
export function refuseUpgrade(socket: Duplex, status: number, code: string, reason: string, message: string): void {
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n${JSON.stringify({ code, message, details: { reason } })}`);
}

/** helloField reads one field of a socket's first message (JSON); undefined when it is not JSON or has none. */
export function helloField(data: unknown, field: string): unknown {
  try {
    return (JSON.parse(String(data)) as Record<string, unknown> | null)?.[field];
  } catch {
    return undefined;
  }
}

/**
 * refuseHello audits a socket whose first message did not say who it is (repeats from one address summarised as
 * other refusals are), tells the page why in a message of its own and closes the socket (4401).
 */
export function refuseHello(audit: Pick<AuditView, 'refuse'>, ws: WebSocket, r: { remote: string | undefined; key: string; route: string; reason: string; message: string }): void {
  audit.refuse(`refused\u0000a${r.remote ?? ''}\u0000${r.key}`, {
    userId: null, username: '', unit: null, action: 'refused', camera: null, remote: r.remote ?? null,
    detail: { route: r.route, code: 'unauthenticated', reason: r.reason, message: r.message },
  });
  ws.send(JSON.stringify({ type: 'refused', code: 'unauthenticated', reason: r.reason }));
  ws.close(4401, r.message);
}
