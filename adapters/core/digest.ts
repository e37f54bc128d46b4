// HTTP Digest (RFC 2617, MD5) as IP cameras speak it over RTSP: the parts both clients and the simulator need.
import { createHash, randomBytes } from 'node:crypto';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
/** CNONCE is this process's client nonce for qop=auth answers. */
const CNONCE = randomBytes(8).toString('hex');

/** parseAuthParams parses the comma-separated key=value list of a WWW-Authenticate or Authorization header. */
export function parseAuthParams(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(value)) !== null) out[m[1]!.toLowerCase()] = m[2] ?? m[3] ?? '';
  return out;
}

/**
 * answerChallenge builds the Authorization header that answers a WWW-Authenticate challenge (Digest or Basic) for a
 * request, or returns undefined for a scheme it does not speak or a Digest challenge without realm and nonce.
 */
export function answerChallenge(challenge: string | undefined, creds: { username: string; password: string }, method: string, uri: string, nc = 1): { header: string; scheme: 'digest' | 'basic' } | undefined {
  if (!challenge) return undefined;
  if (/^digest\s/i.test(challenge)) {
    const p = parseAuthParams(challenge.slice(7));
    if (!p.realm || !p.nonce) return undefined;
    if (p.algorithm && !/^md5$/i.test(p.algorithm)) return undefined;
    return { scheme: 'digest', header: digestResponse({ username: creds.username, password: creds.password, realm: p.realm, nonce: p.nonce, method, uri, qop: p.qop, opaque: p.opaque, nc, cnonce: CNONCE }) };
  }
  if (/^basic\s/i.test(challenge)) return { scheme: 'basic', header: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` };
  return undefined;
}

/** digestResponse computes the client side of a Digest exchange (qop absent or "auth"). */
export function digestResponse(opts: { username: string; password: string; realm: string; nonce: string; method: string; uri: string; qop?: string; nc?: number; cnonce?: string; opaque?: string }): string {
  const ha1 = md5(`${opts.username}:${opts.realm}:${opts.password}`);
  const ha2 = md5(`${opts.method}:${opts.uri}`);
  const auth = opts.qop?.split(',').map((q) => q.trim()).includes('auth');
  const nc = (opts.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = opts.cnonce ?? 'sharp-eyes';
  const response = auth ? md5(`${ha1}:${opts.nonce}:${nc}:${cnonce}:auth:${ha2}`) : md5(`${ha1}:${opts.nonce}:${ha2}`);
  const quote = (v: string) => v.replace(/["\\]/g, '\\$&');
  return `Digest username="${quote(opts.username)}", realm="${quote(opts.realm)}", nonce="${quote(opts.nonce)}", uri="${quote(opts.uri)}", response="${response}", algorithm=MD5`
    + (auth ? `, qop=auth, nc=${nc}, cnonce="${cnonce}"` : '')
    + (opts.opaque !== undefined ? `, opaque="${quote(opts.opaque)}"` : '');
}
