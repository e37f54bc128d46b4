// Media tokens: short-lived, HMAC-signed, bound to user, session, camera, profile and action.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Action } from '../access/access-index.js';

/** MediaGrant is what a token allows. */
export interface MediaGrant {
  userId: number;
  /** session is a prefix of the session id hash: ending the session ends its tokens. */
  session: string;
  camera: string;
  profile: string;
  action: Action;
  /** expires is in epoch milliseconds. */
  expires: number;
}

/** MediaTokenError says why a token was refused. */
export class MediaTokenError extends Error {
  override name = 'MediaTokenError';
}

/** MediaTokens signs and checks tokens. */
export class MediaTokens {
  #key: Buffer;
  readonly ttlMs: number;

  constructor(key: Buffer, ttlMs: number) {
    this.#key = key;
    this.ttlMs = ttlMs;
  }

  /** sign returns a token valid for ttlMs from now. */
  sign(grant: Omit<MediaGrant, 'expires'>, now = Date.now()): { token: string; expires: number } {
    const expires = now + this.ttlMs;
    const body = Buffer.from(JSON.stringify([grant.userId, grant.session, grant.camera, grant.profile, grant.action, expires])).toString('base64url');
    return { token: `${body}.${this.#mac(body)}`, expires };
  }

  /** verify checks signature, expiry and binding to camera/profile; it throws MediaTokenError. */
  verify(token: string | undefined, camera: string, profile: string, now = Date.now()): MediaGrant {
    if (!token) throw new MediaTokenError('missing media token');
    const dot = token.indexOf('.');
    if (dot <= 0 || token.length > 1024) throw new MediaTokenError('malformed media token');
    const body = token.slice(0, dot);
    const mac = Buffer.from(token.slice(dot + 1));
    const want = Buffer.from(this.#mac(body));
    if (mac.length !== want.length || !timingSafeEqual(mac, want)) throw new MediaTokenError('media token signature is invalid');
    let fields: unknown;
    try {
      fields = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      throw new MediaTokenError('malformed media token');
    }
    if (!Array.isArray(fields) || fields.length !== 6) throw new MediaTokenError('malformed media token');
    const [userId, session, cam, prof, action, expires] = fields as [number, string, string, string, Action, number];
    if (expires <= now) throw new MediaTokenError('media token expired');
    if (cam !== camera || prof !== profile) throw new MediaTokenError('media token is for another stream');
    return { userId, session, camera: cam, profile: prof, action, expires };
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#key).update(body).digest('base64url');
  }
}
