// The room capacity benchmark's participants, in a process of their own (their CPU is not the gateway's): each sends
// a simulcast camera (three VP8 layers replayed from clips, RTCP sender reports every second) and a microphone
// (Opus-sized packets every 20 ms) to her producers' plain transport, receives what the worker sends her on a few
// loopback sockets (counted by SSRC, losses read from sequence gaps; the payloads stay encrypted), and asks the
// gateway for her room's state every second, as the console's page does. Driven by its parent over IPC.
import { createSocket, type Socket } from 'node:dgram';
import { FPS, packetize, readIvf, type Vp8Packet } from './vp8-rtp.js';

/** Sender is one participant's outgoing media: where it goes and its SSRCs (one per layer, then the microphone). */
export interface LoadSender { port: number; ssrcs: number[]; audioSsrc: number }
/** Poll is one participant's state request. */
export interface LoadPoll { url: string; secret: string }
export type LoadCommand =
  | { type: 'start'; clips: string[]; senders: LoadSender[]; polls: LoadPoll[] }
  | { type: 'stats' }
  | { type: 'stop' };
export interface SsrcCount { packets: number; bytes: number; lost: number }
export type LoadReply =
  | { type: 'ports'; ports: number[] }
  | { type: 'started' }
  | { type: 'stats'; ssrcs: Record<number, SsrcCount>; sent: { packets: number; bytes: number; bySsrc: Record<number, number> }; polls: { ok: number; failed: number; ms: number[] } };

const RECEIVE_SOCKETS = 4;
const TICK_MS = 5;

interface Stream { ssrc: number; pt: number; seq: number; packets: number; bytes: number; tsBase: number }
interface Running {
  sender: LoadSender;
  socket: Socket;
  video: Stream[];
  audio: Stream;
  /** startAt is when her frame 0 was due; offset staggers the participants' keyframes. */
  startAt: number;
  offset: number;
  nextFrame: number;
  nextAudio: number;
}

const counts = new Map<number, { packets: number; bytes: number; first: number; max: number }>();
const receivers: Socket[] = [];
const polls = { ok: 0, failed: 0, ms: [] as number[] };
const sent = { packets: 0, bytes: 0, bySsrc: {} as Record<number, number> };
let clips: Vp8Packet[][] = [];
let frameIndex: Vp8Packet[][][] = [];
const running: Running[] = [];
const timers: NodeJS.Timeout[] = [];

function reply(m: LoadReply): void {
  process.send!(m);
}

function rtp(s: Stream, marker: boolean, ts: number, payload: Buffer): Buffer {
  const h = Buffer.allocUnsafe(12);
  h[0] = 0x80;
  h[1] = (marker ? 0x80 : 0) | s.pt;
  h.writeUInt16BE(s.seq & 0xffff, 2);
  h.writeUInt32BE((s.tsBase + ts) >>> 0, 4);
  h.writeUInt32BE(s.ssrc, 8);
  s.seq++;
  return Buffer.concat([h, payload]);
}

function send(r: Running, s: Stream, packet: Buffer): void {
  r.socket.send(packet, r.sender.port, '127.0.0.1');
  s.packets++;
  s.bytes += packet.length - 12;
  sent.packets++;
  sent.bytes += packet.length;
  sent.bySsrc[s.ssrc] = (sent.bySsrc[s.ssrc] ?? 0) + 1;
}

/** senderReport is an RTCP SR of a stream: NTP time now, the RTP time it maps to, what was sent. */
function senderReport(s: Stream, rtpNow: number): Buffer {
  const b = Buffer.alloc(28);
  b[0] = 0x80;
  b[1] = 200;
  b.writeUInt16BE(6, 2);
  b.writeUInt32BE(s.ssrc, 4);
  const ms = Date.now() + 2_208_988_800_000;
  b.writeUInt32BE(Math.floor(ms / 1000) >>> 0, 8);
  b.writeUInt32BE(Math.floor(((ms % 1000) / 1000) * 2 ** 32) >>> 0, 12);
  b.writeUInt32BE((s.tsBase + rtpNow) >>> 0, 16);
  b.writeUInt32BE(s.packets >>> 0, 20);
  b.writeUInt32BE(s.bytes >>> 0, 24);
  return b;
}

function tick(): void {
  const now = Date.now();
  for (const r of running) {
    const due = Math.floor(((now - r.startAt) * FPS) / 1000);
    for (; r.nextFrame <= due; r.nextFrame++) {
      const n = r.nextFrame + r.offset;
      const ts = n * (90000 / FPS);
      r.video.forEach((s, layer) => {
        const frames = frameIndex[layer]!;
        for (const p of frames[n % frames.length]!) {
          const payload = Buffer.from(p.payload);
          // The picture id counts frames, as a browser's does (15 bits, the M bit set).
          payload[2] = 0x80 | ((n >> 8) & 0x7f);
          payload[3] = n & 0xff;
          send(r, s, rtp(s, p.marker, ts, payload));
        }
      });
    }
    for (; r.nextAudio <= now; r.nextAudio += 20) {
      const payload = Buffer.alloc(80, 0x55);
      payload[0] = 0xfc; // TOC: CELT fullband 20 ms, stereo, one frame
      send(r, r.audio, rtp(r.audio, false, ((r.nextAudio - r.startAt) / 20) * 960, payload));
    }
  }
}

function reports(): void {
  const now = Date.now();
  for (const r of running) {
    const vts = Math.round(((now - r.startAt) / 1000 + r.offset / FPS) * 90000);
    for (const s of r.video) r.socket.send(senderReport(s, vts), r.sender.port, '127.0.0.1');
    r.socket.send(senderReport(r.audio, Math.round(((now - r.startAt) / 1000) * 48000)), r.sender.port, '127.0.0.1');
  }
}

async function poll(p: LoadPoll): Promise<void> {
  const t0 = performance.now();
  try {
    const res = await fetch(p.url, { headers: { authorization: `Bearer ${p.secret}` } });
    await res.arrayBuffer();
    if (res.ok) polls.ok++;
    else polls.failed++;
  } catch {
    polls.failed++;
  }
  polls.ms.push(performance.now() - t0);
}

function start(c: Extract<LoadCommand, { type: 'start' }>): void {
  clips = c.clips.map((f) => packetize(readIvf(f)));
  frameIndex = clips.map((packets) => {
    const frames: Vp8Packet[][] = [];
    for (const p of packets) (frames[p.frame] ??= []).push(p);
    return frames;
  });
  const t0 = Date.now();
  c.senders.forEach((sender, i) => {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    const stream = (ssrc: number, pt: number): Stream => ({ ssrc, pt, seq: Math.floor(Math.random() * 60000), packets: 0, bytes: 0, tsBase: Math.floor(Math.random() * 2 ** 31) });
    const tsBase = Math.floor(Math.random() * 2 ** 31);
    // The layers of one camera share their RTP clock, as a browser's do.
    const video = sender.ssrcs.map((ssrc) => ({ ...stream(ssrc, 96), tsBase }));
    running.push({ sender, socket, video, audio: stream(sender.audioSsrc, 111), startAt: t0, offset: Math.floor((i * 7) % (2 * FPS)), nextFrame: 0, nextAudio: t0 });
  });
  timers.push(setInterval(tick, TICK_MS), setInterval(reports, 1000));
  c.polls.forEach((p, i) => {
    // Each page asks once a second, the pages spread over the second.
    timers.push(setTimeout(() => timers.push(setInterval(() => void poll(p), 1000)), (i * 1000) / c.polls.length));
  });
  reply({ type: 'started' });
}

function stats(): void {
  const ssrcs: Record<number, SsrcCount> = {};
  for (const [ssrc, c] of counts) ssrcs[ssrc] = { packets: c.packets, bytes: c.bytes, lost: Math.max(0, c.max - c.first + 1 - c.packets) };
  reply({ type: 'stats', ssrcs, sent: { packets: sent.packets, bytes: sent.bytes, bySsrc: { ...sent.bySsrc } }, polls: { ok: polls.ok, failed: polls.failed, ms: polls.ms.splice(0) } });
}

function onPacket(msg: Buffer): void {
  if (msg.length < 12 || (msg[0]! & 0xc0) !== 0x80) return;
  if (msg[1]! >= 200 && msg[1]! <= 207) return; // RTCP (rtcp-mux)
  const ssrc = msg.readUInt32BE(8);
  const seq = msg.readUInt16BE(2);
  let c = counts.get(ssrc);
  if (!c) {
    c = { packets: 0, bytes: 0, first: seq, max: seq - 1 };
    counts.set(ssrc, c);
  }
  // Extend the 16-bit sequence number by the last one seen (mediasoup's consumers count on from a random start).
  let ext = (c.max & ~0xffff) | seq;
  if (ext < c.max - 0x8000) ext += 0x10000;
  else if (ext > c.max + 0x8000) ext -= 0x10000;
  if (ext > c.max) c.max = ext;
  c.packets++;
  c.bytes += msg.length;
}

async function boot(): Promise<void> {
  for (let i = 0; i < RECEIVE_SOCKETS; i++) {
    const s = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
    s.on('message', onPacket);
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
    receivers.push(s);
  }
  process.on('message', (m: LoadCommand) => {
    if (m.type === 'start') start(m);
    else if (m.type === 'stats') stats();
    else if (m.type === 'stop') {
      for (const t of timers) clearInterval(t);
      for (const r of running) r.socket.close();
      for (const s of receivers) s.close();
      process.exit(0);
    }
  });
  reply({ type: 'ports', ports: receivers.map((s) => s.address().port) });
}

void boot();
