// A participant's side of a room: her place (an account's, or a guest's by her invite link), her camera and
// microphone sent, each other participant and each camera brought in received, the room's state pushed to her page
// over a WebSocket as it changes (and asked for every few seconds, or every second without the socket);
// a connection that drops (failed, or disconnected for seconds) is made again by itself, and all of them at once when
// nothing has come on her connections for seconds (her network went away).

/** RoomState is what the gateway says of a room. */
export interface RoomState {
  /** receiving are the participants whose media the gateway sends her now. */
  receiving?: string[];
  id: string; kind: string; title: string; unit: string; host: number; createdAt: number; locked: boolean; waiting: boolean; broadcast: boolean;
  participants: Array<{ id: string; name: string; unit: string; role: string; joinedAt: number; muted: boolean; sending: string[]; admitted: boolean; hand: number | null; guest: boolean; sharing: boolean }>;
  cameras: Array<{ camera: string; name: string; by: string; at: number }>;
  /** recording is the recording running (everyone is shown the notice), or null. */
  recording: { id: string; since: number } | null;
  /** case is a mediation's case: the agreement text as it stands, its SHA-256 and who confirmed that text. */
  case: { id: number; caseNo: string; agreement: string; agreementSha256: string; confirmedBy: string[] } | null;
}

/** Remote is one received stream: a participant or a camera. */
export interface Remote { key: string; stream: MediaStream; pc: RTCPeerConnection; since: number }

/** RoomClientError is a refusal of the gateway, with its stable reason. */
export class RoomClientError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details?: Record<string, unknown>;
  constructor(status: number, body: { code?: string; message?: string; details?: Record<string, unknown> } | null) {
    super(body?.message ?? `request failed (${status})`);
    this.status = status;
    this.code = body?.code ?? 'unknown';
    this.details = body?.details;
  }
}

/** STATE_MS is how often her page looks at her room and her connections; RECHECK_MS how often it asks, with a socket. */
const STATE_MS = 1000;
const RECHECK_MS = 5000;
/** SIMULCAST are the layers of her camera, lowest first (as the gateway reads them). */
const SIMULCAST: RTCRtpEncodingParameters[] = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', maxBitrate: 1_500_000 },
];
/** DOWN_MS is how long a connection may stay disconnected (its network dropped) before it is made again. */
const DOWN_MS = 2000;

/** SILENT_MS is how long a connection may receive nothing at all (no media, no RTCP, no ICE answer) before it is lost. */
const SILENT_MS = 2500;
/** heard remembers, for each connection, the bytes it had received at the last look and when they last grew. */
const heard = new WeakMap<RTCPeerConnection, { bytes: number; at: number }>();

/**
 * silentMs says how long a connection has received nothing: its transport's bytes received (the gateway's RTP, its
 * RTCP reports and feedback, its ICE answers) not grown since. 0 while it has not connected yet.
 */
async function silentMs(pc: RTCPeerConnection): Promise<number> {
  if (pc.connectionState !== 'connected' && pc.connectionState !== 'disconnected') return 0;
  let bytes = 0;
  (await pc.getStats()).forEach((r: { type: string; bytesReceived?: number }) => { if (r.type === 'transport') bytes += r.bytesReceived ?? 0; });
  const now = Date.now();
  const h = heard.get(pc);
  if (!h || bytes !== h.bytes) { heard.set(pc, { bytes, at: now }); return 0; }
  return now - h.at;
}

/** down says whether a connection is lost: failed, closed, or disconnected for DOWN_MS (the path it used is gone). */
function down(pc: RTCPeerConnection): boolean {
  const w = pc as RTCPeerConnection & { __downSince?: number };
  if (pc.connectionState === 'failed' || pc.connectionState === 'closed') return true;
  if (pc.connectionState !== 'disconnected') { w.__downSince = undefined; return false; }
  w.__downSince ??= Date.now();
  return Date.now() - w.__downSince > DOWN_MS;
}

/** RoomClient is one participant in one room. */
export class RoomClient {
  readonly room: string;
  participant = '';
  role = '';
  #secret: string | undefined;
  #local: MediaStream | null = null;
  #send: RTCPeerConnection | null = null;
  #sentAt = 0;
  #screen: { pc: RTCPeerConnection; stream: MediaStream; location: string | null } | null = null;
  #remotes = new Map<string, Remote>();
  #timer?: number;
  #closed = false;
  #refreshing: Promise<void> = Promise.resolve();
  #queued = 0;
  #socket: WebSocket | null = null;
  #pushed: RoomState | null = null;
  #askedAt = 0;
  state: RoomState | null = null;
  /**
   * simulcast sends her camera in layers. Off by default: on a 2-core machine the three software encodes held the
   * sender at 5 fps where one 720p stream keeps 18 (npm run bench -- rooms, test/bench/README.md).
   */
  simulcast = false;
  onChange: () => void = () => undefined;
  onError: (err: unknown) => void = () => undefined;

  constructor(room: string) {
    this.room = room;
    // A benchmark (or a room's administrator, later) turns layers on for this page.
    this.simulcast = (window as unknown as { __roomSimulcast?: boolean }).__roomSimulcast === true;
  }

  async #call<T>(method: string, path: string, body?: unknown, sdp?: string): Promise<{ data: T; location: string | null }> {
    const headers: Record<string, string> = {};
    if (this.#secret) headers.authorization = `Bearer ${this.#secret}`;
    if (sdp !== undefined) headers['content-type'] = 'application/sdp';
    else if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(path, { method, headers, credentials: this.#secret ? 'omit' : 'same-origin', body: sdp ?? (body === undefined ? undefined : JSON.stringify(body)) });
    if (!res.ok) throw new RoomClientError(res.status, await res.json().catch(() => null) as { code?: string; message?: string } | null);
    const text = res.status === 204 ? '' : await res.text();
    const data = (sdp !== undefined ? text : text ? JSON.parse(text) : undefined) as T;
    return { data, location: res.headers.get('location') };
  }

  /** join takes her place: an account's (logged in), or a guest's with the invite link's token. */
  async join(invite?: string): Promise<void> {
    if (invite) {
      const g = (await this.#call<{ participant: string; role: string; secret: string }>('POST', `/api/rooms/${this.room}/guests`, { token: invite })).data;
      this.#secret = g.secret;
      this.participant = g.participant;
      this.role = g.role;
    } else {
      const j = (await this.#call<{ participant: string; role: string }>('POST', `/api/rooms/${this.room}/join`)).data;
      this.participant = j.participant;
      this.role = j.role;
    }
    await this.refresh();
    this.#follow$();
    this.#timer = window.setInterval(() => { if (this.#queued === 0) void this.refresh(false).catch((err: unknown) => this.onError(err)); }, STATE_MS);
  }

  /**
   * #follow$ opens her WebSocket: the gateway sends her state as it changes, so the page need not ask every second
   * (it still looks at her connections every second, and asks every RECHECK_MS in case). A guest says who she is in
   * the first message; a lost socket is opened again, unless the gateway said she is no longer in the room.
   */
  #follow$(): void {
    if (this.#closed || this.#socket) return;
    const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/api/rooms/${this.room}/participants/${this.participant}/ws`);
    this.#socket = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', ...(this.#secret ? { secret: this.#secret } : {}) }));
    ws.onmessage = (e) => {
      const m = JSON.parse(String(e.data)) as { type: string; room?: RoomState };
      if (m.type !== 'room' || !m.room) return;
      this.#pushed = m.room;
      // One follow waiting is enough: it takes the newest state pushed.
      if (this.#queued < 2) void this.refresh(false).catch((err: unknown) => this.onError(err));
    };
    ws.onclose = (e) => {
      if (this.#socket === ws) this.#socket = null;
      // Not again when she is out of the room (4401) or her page was opened again elsewhere (4409): she asks every second then.
      if (!this.#closed && e.code !== 4401 && e.code !== 4409) window.setTimeout(() => this.#follow$(), 2000);
    };
  }

  /** local is her own camera and microphone (for the self view). */
  get local(): MediaStream | null {
    return this.#local;
  }

  get remotes(): Remote[] {
    return [...this.#remotes.values()];
  }

  /**
   * refresh reads the room and follows it. One runs at a time (the timer's, a command's, a shared screen's come one
   * after another), so that two of them never make the same connection twice; the timer's is skipped while one waits.
   */
  refresh(ask = true): Promise<void> {
    const run = this.#refreshing.catch(() => undefined).then(() => this.#follow(ask)).finally(() => { this.#queued--; });
    this.#queued++;
    this.#refreshing = run;
    return run;
  }

  /**
   * #follow takes the room's state (pushed over her socket, or asked for: always when ask, else when the socket is
   * down or RECHECK_MS passed) and follows it: her sending once admitted, a receiver per sender and per camera.
   */
  async #follow(ask = true): Promise<void> {
    if (this.#closed) return;
    const pushed = this.#pushed;
    this.#pushed = null;
    if (pushed && !ask) this.state = pushed;
    else if (ask || !this.state || this.#socket?.readyState !== WebSocket.OPEN || Date.now() - this.#askedAt > RECHECK_MS) {
      this.#askedAt = Date.now();
      this.state = (await this.#call<RoomState>('GET', `/api/rooms/${this.room}/participants/${this.participant}/room`)).data;
    }
    const me = this.state.participants.find((p) => p.id === this.participant);
    // The gateway no longer has her sending (a worker died, her network dropped): she sends again.
    if (this.#send && me && me.sending.length === 0 && Date.now() - this.#sentAt > 3000) { this.#send.close(); this.#send = null; }
    if (me?.admitted && me.role !== 'observer' && !this.#send) await this.#startSending();
    if (me?.admitted) {
      const want = new Set<string>();
      for (const p of this.state.participants) if (p.id !== this.participant && p.sending.length > 0) want.add(`p:${p.id}`);
      for (const p of this.state.participants) if (p.id !== this.participant && p.sharing) want.add(`s:${p.id}`);
      for (const c of this.state.cameras) want.add(`c:${c.camera}`);
      for (const [k, r] of this.#remotes) {
        const said = k.startsWith('s:') ? `${k.slice(2)}:screen` : k.slice(2);
        const gone = !k.startsWith('c:') && this.state.receiving !== undefined && !this.state.receiving.includes(said) && Date.now() - r.since > 3000;
        const dead = gone || down(r.pc);
        if (!want.has(k) || dead) { r.pc.close(); this.#remotes.delete(k); }
      }
      for (const k of want) if (!this.#remotes.has(k)) await this.#receive(k).catch((err: unknown) => this.onError(err));
    }
    if (await this.#networkLost()) {
      // Nothing came on any of her connections for seconds: her network went away (a phone off its Wi-Fi, a cable
      // pulled) and whatever comes back is another path. Every connection is made again at once, without waiting for
      // the browser's own ICE to give up.
      this.#send?.close();
      this.#send = null;
      for (const r of this.#remotes.values()) r.pc.close();
      this.#remotes.clear();
      this.onChange();
      await this.#follow(false);
      return;
    }
    if (this.#send && down(this.#send)) {
      // Her network dropped: she sends again (the gateway ends her earlier publication as the new one begins).
      this.#send.close();
      this.#send = null;
    }
    this.onChange();
  }

  /**
   * #networkLost says whether her own network is gone: her sending connection has heard nothing from the gateway
   * (its reports and feedback come many times a second) for SILENT_MS, or, when she sends nothing (an observer), none
   * of her receiving connections has. One silent receiver alone is its sender's trouble, not hers.
   */
  async #networkLost(): Promise<boolean> {
    if (this.#send) return (await silentMs(this.#send)) > SILENT_MS;
    const pcs = [...this.#remotes.values()].map((r) => r.pc);
    if (pcs.length === 0) return false;
    const quiet = await Promise.all(pcs.map(silentMs));
    return quiet.every((ms) => ms > SILENT_MS);
  }

  async #startSending(): Promise<void> {
    this.#local ??= await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 }, audio: true });
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    for (const t of this.#local.getTracks()) {
      // Her camera goes in three layers (180p, 360p, 720p) when the room asks for them (each viewer then gets the
      // one her tile needs); otherwise as one 720p stream, which costs her computer the least.
      pc.addTransceiver(t, t.kind === 'video' && this.simulcast ? { direction: 'sendonly', sendEncodings: SIMULCAST } : { direction: 'sendonly' });
    }
    await pc.setLocalDescription(await pc.createOffer());
    const answer = (await this.#call<string>('POST', `/api/rooms/${this.room}/participants/${this.participant}/send`, undefined, pc.localDescription!.sdp)).data;
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    this.#send = pc;
    this.#sentAt = Date.now();
  }

  async #receive(key: string): Promise<void> {
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    pc.addTransceiver('video', { direction: 'recvonly' });
    if (key.startsWith('p:')) pc.addTransceiver('audio', { direction: 'recvonly' });
    const stream = new MediaStream();
    pc.ontrack = (e) => { stream.addTrack(e.track); this.onChange(); };
    this.#remotes.set(key, { key, stream, pc, since: Date.now() });
    await pc.setLocalDescription(await pc.createOffer());
    let answer: string;
    if (key.startsWith('p:') || key.startsWith('s:')) {
      const source = key.startsWith('s:') ? '?source=screen' : '';
      answer = (await this.#call<string>('POST', `/api/rooms/${this.room}/participants/${this.participant}/receive/${key.slice(2)}${source}`, undefined, pc.localDescription!.sdp)).data;
    } else {
      const m = (await this.#call<{ whepUrl?: string }>('GET', `/api/rooms/${this.room}/participants/${this.participant}/cameras/${key.slice(2)}/media?profile=sub`)).data;
      if (!m.whepUrl) throw new RoomClientError(503, { code: 'stream-unavailable', details: { reason: 'webrtc-off' } });
      const res = await fetch(m.whepUrl, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription!.sdp, credentials: 'omit' });
      if (res.status !== 201) throw new RoomClientError(res.status, await res.json().catch(() => null) as { code?: string } | null);
      answer = await res.text();
    }
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  }

  /** sharing is her own shared screen, or null. */
  get sharing(): MediaStream | null {
    return this.#screen?.stream ?? null;
  }

  /** share sends her screen (the browser asks which) as a second publication; the browser's own stop ends it too. */
  async share(): Promise<void> {
    if (this.#screen) return;
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: { width: 1920, height: 1080, frameRate: 15 }, audio: false });
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    const track = stream.getVideoTracks()[0]!;
    track.contentHint = 'detail';
    pc.addTransceiver(track, { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    try {
      const r = await this.#call<string>('POST', `/api/rooms/${this.room}/participants/${this.participant}/share`, undefined, pc.localDescription!.sdp);
      await pc.setRemoteDescription({ type: 'answer', sdp: r.data });
      this.#screen = { pc, stream, location: r.location };
    } catch (err) {
      pc.close();
      for (const t of stream.getTracks()) t.stop();
      throw err;
    }
    track.addEventListener('ended', () => void this.stopSharing());
    await this.refresh();
  }

  /** stopSharing ends her shared screen. */
  async stopSharing(): Promise<void> {
    const s = this.#screen;
    if (!s) return;
    this.#screen = null;
    s.pc.close();
    for (const t of s.stream.getTracks()) t.stop();
    if (s.location) await this.#call('DELETE', s.location).catch(() => undefined);
    await this.refresh();
  }

  /** act sends one of the room's commands (the host's, or her own hand). */
  async act(method: string, path: string, body?: unknown): Promise<unknown> {
    const r = await this.#call<unknown>(method, path, body);
    await this.refresh();
    return r.data;
  }

  close(): void {
    if (!this.#closed && this.participant) {
      // She leaves: the gateway ends her sessions and says so in the audit trail (the request outlives the page).
      void fetch(`/api/rooms/${this.room}/participants/${this.participant}/leave`, {
        method: 'POST', keepalive: true, credentials: this.#secret ? 'omit' : 'same-origin', headers: this.#secret ? { authorization: `Bearer ${this.#secret}` } : {},
      }).catch(() => undefined);
    }
    this.#closed = true;
    window.clearInterval(this.#timer);
    this.#socket?.close();
    this.#send?.close();
    this.#screen?.pc.close();
    for (const t of this.#screen?.stream.getTracks() ?? []) t.stop();
    for (const r of this.#remotes.values()) r.pc.close();
    this.#remotes.clear();
    for (const t of this.#local?.getTracks() ?? []) t.stop();
  }
}
