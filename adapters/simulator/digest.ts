// HTTP Digest authentication (RFC 2617, MD5, qop absent or "auth") as IP cameras speak it over RTSP.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { parseAuthParams } from '../core/digest.js';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** DigestAuth issues stateless nonces (time + HMAC) and checks responses. */
export class DigestAuth {
  readonly realm: string;
  #key = randomBytes(32);
  #nonceTtlMs: number;

  #qop: boolean;

  /** qop offers qop="auth" (RFC 7616, what HTTP clients expect); RTSP cameras commonly offer none. */
  constructor(realm: string, opts: { nonceTtlMs?: number; qop?: boolean } = {}) {
    this.realm = realm;
    this.#nonceTtlMs = opts.nonceTtlMs ?? 5 * 60_000;
    this.#qop = opts.qop ?? false;
  }

  /** challenge returns a WWW-Authenticate header value. */
  challenge(): string {
    const ts = Date.now().toString(16);
    const mac = createHmac('sha256', this.#key).update(ts).digest('hex').slice(0, 32);
    return `Digest realm="${this.realm}", nonce="${ts}${mac}", algorithm=MD5${this.#qop ? ', qop="auth"' : ''}`;
  }

  /** verify checks an Authorization header for method against the expected credentials. */
  verify(header: string | undefined, method: string, username: string, password: string): boolean {
    if (!header || !/^digest\s/i.test(header)) return false;
    const p = parseAuthParams(header.slice(7));
    if (!p.nonce || !p.response || !p.uri || p.username !== username || p.realm !== this.realm) return false;
    if (!this.#nonceValid(p.nonce)) return false;
    const ha1 = md5(`${username}:${this.realm}:${password}`);
    const ha2 = md5(`${method}:${p.uri}`);
    // A challenge that offered qop must be answered with it (RFC 7616 3.4); one that did not, without.
    if (this.#qop !== (p.qop === 'auth')) return false;
    const expected = p.qop === 'auth'
      ? md5(`${ha1}:${p.nonce}:${p.nc ?? ''}:${p.cnonce ?? ''}:auth:${ha2}`)
      : md5(`${ha1}:${p.nonce}:${ha2}`);
    const a = Buffer.from(expected);
    const b = Buffer.from(p.response.toLowerCase());
    return a.length === b.length && timingSafeEqual(a, b);
  }

  #nonceValid(nonce: string): boolean {
    const ts = nonce.slice(0, -32);
    const mac = nonce.slice(-32);
    const want = createHmac('sha256', this.#key).update(ts).digest('hex').slice(0, 32);
    if (mac.length !== 32 || !timingSafeEqual(Buffer.from(mac), Buffer.from(want))) return false;
    const age = Date.now() - parseInt(ts, 16);
    return age >= 0 && age < this.#nonceTtlMs;
  }
}
