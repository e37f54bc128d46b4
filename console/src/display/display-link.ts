// A display's link to the gateway: its token (from the link's fragment, then kept in the browser), the WebSocket that
// sends its screen's state (reconnected with a backoff, the state shown at once when back), and the stream source its
// players use (tokens signed for this display).
import { ApiError, type Profile, type StreamInfoT } from '../api/client.js';
import type { DisplayPictureT, DisplayStateT } from '../../../gateway/src/wall/wall-schemas.js';
import { withToken, type StreamSource } from '../components/tile/tile-player.js';

const KEY = (path: string) => `seg.display.${path}`;

/** takeToken reads the token of the link (#token=…), keeps it for this page and removes it from the address bar. */
export function takeToken(): string | null {
  const path = location.pathname;
  const m = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(location.hash);
  try {
    if (m) {
      localStorage.setItem(KEY(path), m[1]!);
      history.replaceState(null, '', path);
      return m[1]!;
    }
    return localStorage.getItem(KEY(path));
  } catch {
    return m ? m[1]! : null;
  }
}

/** forgetToken drops a token the gateway refused (revoked): the page says to ask for a new link. */
export function forgetToken(): void {
  try { localStorage.removeItem(KEY(location.pathname)); } catch { /* nothing kept */ }
}

type Media = NonNullable<DisplayPictureT['media']>;

/** DisplayLink follows the screen's state and lends its players a stream source. */
export class DisplayLink {
  readonly #token: string;
  readonly #onState: (s: DisplayStateT) => void;
  readonly #onLink: (up: boolean, refused: boolean) => void;
  #ws: WebSocket | null = null;
  #backoff = 500;
  #closed = false;
  /** #media holds the newest media of each camera profile the screen was sent. */
  #media = new Map<string, Media>();

  constructor(token: string, hooks: { onState: (s: DisplayStateT) => void; onLink: (up: boolean, refused: boolean) => void }) {
    this.#token = token;
    this.#onState = hooks.onState;
    this.#onLink = hooks.onLink;
  }

  start(): void {
    this.#connect();
  }

  #connect(): void {
    if (this.#closed) return;
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/display/ws`);
    this.#ws = ws;
    let refused = false;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', token: this.#token }));
    ws.onmessage = (e) => {
      const msg = JSON.parse(String(e.data)) as { type: string; state?: DisplayStateT };
      if (msg.type === 'refused') { refused = true; return; }
      if (msg.type !== 'state' || !msg.state) return;
      this.#backoff = 500;
      for (const p of msg.state.pictures) {
        for (const m of [p.media, p.next]) if (m) this.#media.set(`${m.camera}/${m.profile}`, m);
      }
      this.#onLink(true, false);
      this.#onState(msg.state);
    };
    ws.onclose = (e) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      const gone = refused || e.code === 4401;
      this.#onLink(false, gone);
      if (gone || this.#closed) return;
      // The gateway restarting, or the network: tried again, a little later each time, up to 5 s.
      setTimeout(() => this.#connect(), this.#backoff);
      this.#backoff = Math.min(this.#backoff * 2, 5000);
    };
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(path, {
        method, headers: { authorization: `Bearer ${this.#token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body), credentials: 'omit',
      });
    } catch {
      throw new ApiError(0, { code: 'network', message: 'the gateway cannot be reached' });
    }
    const data = (await res.json().catch(() => ({}))) as unknown;
    if (!res.ok) throw new ApiError(res.status, data as { code?: string; message?: string });
    return data as T;
  }

  /** source is what this display's players open their streams with. */
  readonly source: StreamSource = {
    open: async (camera: string, profile: Profile) => {
      const m = this.#media.get(`${camera}/${profile}`);
      if (!m) throw new ApiError(403, { code: 'forbidden', message: 'not on this screen', details: { reason: 'wall-not-on-screen' } });
      let { token, tokenExpires } = m;
      if (tokenExpires - Date.now() < 15_000) ({ token, tokenExpires } = await this.source.renew(camera, profile) as { token: string; tokenExpires: number });
      const stream = await this.source.info(camera, profile);
      return { stream, token, tokenExpires, playlistUrl: withToken(m.playlistUrl, token), ...(m.whepUrl ? { whepUrl: withToken(m.whepUrl, token) } : {}) };
    },
    renew: (camera: string, profile: Profile) => this.#call<{ token: string; tokenExpires: number }>('POST', '/api/display/token', { camera, profile }),
    info: (camera: string, profile: Profile) => this.#call<StreamInfoT>('GET', `/api/display/streams/${encodeURIComponent(camera)}/${profile}`),
  };

  close(): void {
    this.#closed = true;
    this.#ws?.close();
  }
}
