// One track's RTP handed to a local ffmpeg over loopback UDP, with the SDP that tells ffmpeg how to read it: the camera
// session (and its credentials) stays in the gateway, ffmpeg sees neither an address nor a password.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { SdpMedia } from '../../../adapters/rtsp/sdp.js';

/** RELAY_HOST is where ffmpeg listens: loopback only. */
const RELAY_HOST = '127.0.0.1';

/** relaySdp writes the SDP of one track as ffmpeg is to receive it: on loopback, at port, without control lines. */
export function relaySdp(media: SdpMedia, port: number): string {
  const keep = media.lines.filter((l) => !/^a=(control|recvonly|sendonly|sendrecv|inactive|range|rtcp)[:\s]?/i.test(l));
  return [
    'v=0', `o=- 0 0 IN IP4 ${RELAY_HOST}`, 's=Sharp Eyes relay', `c=IN IP4 ${RELAY_HOST}`, 't=0 0',
    `m=${media.kind} ${port} RTP/AVP ${media.payloadType}`, ...keep, '',
  ].join('\r\n');
}

/** freeUdpPair finds an even loopback port whose odd neighbour is free too, for ffmpeg to bind (RTP and RTCP). */
async function freeUdpPair(): Promise<number> {
  const bind = (p: number) => new Promise<UdpSocket | undefined>((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(undefined);
    });
    s.bind(p, RELAY_HOST, () => resolve(s));
  });
  for (let attempt = 0; attempt < 32; attempt++) {
    const port = 2 * randomInt(16_000, 30_000);
    const a = await bind(port);
    const b = a && await bind(port + 1);
    a?.close();
    b?.close();
    if (a && b) return port;
  }
  throw new Error('no free loopback UDP port pair for the relay');
}

/** MAX_HELD_BYTES bounds what is held while the reader starts: a keyframe and a second of video, and more. */
const MAX_HELD_BYTES = 4 * 1024 * 1024;

/** listening says whether something listens on a loopback UDP port, from /proc/net/udp (no bind, so no race). */
export async function listening(port: number): Promise<boolean> {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const text = await readFile('/proc/net/udp', 'utf8').catch(() => '');
  return text.split('\n').some((l) => { const local = l.trim().split(/\s+/)[1]; return local === `0100007F:${hex}` || local === `00000000:${hex}`; });
}

/** keyframeStart says whether an RTP payload begins a keyframe's access unit (parameter sets or an IDR/IRAP picture). */
export function keyframeStart(codec: string, payload: Buffer): boolean {
  if (payload.length < 3) return false;
  if (codec === 'H264') {
    const type = payload[0]! & 0x1f;
    if (type === 5 || type === 7) return true;
    if (type === 24 && payload.length > 3) return [5, 7].includes(payload[3]! & 0x1f);
    if (type === 28) return (payload[1]! & 0x80) !== 0 && (payload[1]! & 0x1f) === 5;
    return false;
  }
  if (codec === 'H265') {
    const type = (payload[0]! >> 1) & 0x3f;
    if ((type >= 16 && type <= 21) || (type >= 32 && type <= 34)) return true;
    if (type === 48 && payload.length > 4) {
      const inner = (payload[4]! >> 1) & 0x3f;
      return (inner >= 16 && inner <= 21) || (inner >= 32 && inner <= 34);
    }
    if (type === 49) return (payload[2]! & 0x80) !== 0 && (payload[2]! & 0x3f) >= 16 && (payload[2]! & 0x3f) <= 21;
    return false;
  }
  return false;
}

/** REORDER_FRAMES is how many pictures are looked at to tell whether the camera sends B-frames. */
const REORDER_FRAMES = 5;
const REORDER_WAIT_MS = 800;

/**
 * RtpRelay forwards packets to the ports the relay SDP names. It starts by holding what arrives (within
 * MAX_HELD_BYTES) until the reader (ffmpeg) listens and the first pictures tell whether the camera sends B-frames:
 * then what was held goes out, so that the camera's first keyframe is not lost while ffmpeg starts. With B-frames
 * that first keyframe is left out instead (see #release): ffmpeg cannot time such a stream from its very first
 * picture, and starts cleanly at the next keyframe.
 */
export class RtpRelay {
  readonly sdp: string;
  readonly port: number;
  readonly codec: string;
  #socket: UdpSocket;
  #closed = false;
  #held: Array<{ packet: Buffer; rtcp: boolean }> | undefined = [];
  #heldBytes = 0;
  #primed = false;
  #listening = false;
  #stamps: number[] = [];
  #firstAt = 0;
  /** reordered is known once enough pictures came: true when their RTP timestamps go back (B-frames). */
  reordered?: boolean;
  /** sent counts the packets forwarded. */
  sent = 0;

  private constructor(sdp: string, port: number, socket: UdpSocket, codec: string) {
    this.sdp = sdp;
    this.port = port;
    this.codec = codec;
    this.#socket = socket;
    // A send to a port nobody listens on yet (ffmpeg starting) fails quietly: the packet is lost, nothing else.
    socket.on('error', () => undefined);
    // Only H.264 and H.265 have pictures out of order to look for.
    if (codec !== 'H264' && codec !== 'H265') this.reordered = false;
  }

  /** open chooses the ports and makes the sending socket. */
  static async open(media: SdpMedia): Promise<RtpRelay> {
    const port = await freeUdpPair();
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, RELAY_HOST, () => resolve()));
    try {
      socket.setSendBufferSize(2 * 1024 * 1024);
    } catch {
      // Capped by the kernel: what it allows is used.
    }
    return new RtpRelay(relaySdp(media, port), port, socket, media.codec);
  }

  /** send forwards one RTP packet, or holds a copy while the start is not decided. */
  send(packet: Buffer): void {
    if (this.#closed || packet.length < 12) return;
    if (this.reordered === undefined) this.#watchOrder(packet);
    if (this.#held) {
      this.#hold(packet, false);
      this.#release();
      return;
    }
    this.#forward(packet);
  }

  /** sendRtcp forwards an RTCP packet (the camera's sender reports). */
  sendRtcp(packet: Buffer): void {
    if (this.#closed) return;
    if (this.#held) return this.#hold(packet, true);
    this.#socket.send(packet, this.port + 1, RELAY_HOST);
  }

  #watchOrder(packet: Buffer): void {
    const now = Date.now();
    if (this.#firstAt === 0) this.#firstAt = now;
    const ts = packet.readUInt32BE(4);
    if (this.#stamps[this.#stamps.length - 1] !== ts) this.#stamps.push(ts);
    const back = this.#stamps.some((t, i) => i > 0 && ((t - this.#stamps[i - 1]!) | 0) < 0);
    if (back || this.#stamps.length > REORDER_FRAMES || now - this.#firstAt > REORDER_WAIT_MS) {
      this.reordered = back;
      this.#stamps = [];
    }
  }

  #forward(packet: Buffer): void {
    if (!this.#primed) {
      // ffmpeg's RTP reader drops the packets of a new source until two arrive in sequence (RFC 3550 A.1 probation):
      // two copies of the first packet, numbered just before it, are dropped in its place, and it arrives whole.
      this.#primed = true;
      const seq = packet.readUInt16BE(2);
      for (const back of [2, 1]) {
        const primer = Buffer.from(packet);
        primer.writeUInt16BE((seq - back) & 0xffff, 2);
        this.#socket.send(primer, this.port, RELAY_HOST);
      }
    }
    this.sent++;
    this.#socket.send(packet, this.port, RELAY_HOST);
  }

  #hold(packet: Buffer, rtcp: boolean): void {
    // Past the bound the oldest go: a reader that starts late still gets the freshest second.
    while (this.#heldBytes + packet.length > MAX_HELD_BYTES && this.#held!.length > 0) this.#heldBytes -= this.#held!.shift()!.packet.length;
    this.#held!.push({ packet: Buffer.from(packet), rtcp });
    this.#heldBytes += packet.length;
  }

  /** #release sends what was held once the reader listens and the order of pictures is known. */
  #release(): void {
    if (!this.#held || !this.#listening || this.reordered === undefined) return;
    const held = this.#held;
    this.#held = undefined;
    this.#heldBytes = 0;
    if (this.reordered) {
      // ffmpeg cannot time a B-frame stream from its very first picture, but learns it from the pictures that follow:
      // the first keyframe alone is left out, the rest of its group goes (ffmpeg copies nothing before a keyframe),
      // and output starts cleanly at the next keyframe.
      let skipStamp: number | undefined;
      let done = false;
      for (const h of held) {
        if (h.rtcp) continue;
        const ts = h.packet.readUInt32BE(4);
        if (!done && skipStamp === undefined && keyframeStart(this.codec, h.packet.subarray(12 + (h.packet[0]! & 0x0f) * 4))) skipStamp = ts;
        if (!done && skipStamp !== undefined) {
          if (ts === skipStamp) continue;
          done = true;
        }
        this.#forward(h.packet);
      }
      return;
    }
    for (const h of held) {
      if (h.rtcp) this.#socket.send(h.packet, this.port + 1, RELAY_HOST);
      else this.#forward(h.packet);
    }
  }

  /**
   * flushWhenListening waits (polling, within timeoutMs) until the reader listens on the relay's port, then lets what
   * was held go as soon as the order of pictures is known. It resolves false when the reader never came.
   */
  async flushWhenListening(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let ready = false;
    while (!this.#closed && !(ready = await listening(this.port)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (this.#closed) return false;
    this.#listening = true;
    // With nothing more arriving (a camera that sent one picture), the order is taken as known.
    if (this.reordered === undefined && this.#held && this.#held.length > 0 && Date.now() - this.#firstAt > REORDER_WAIT_MS) this.reordered = false;
    this.#release();
    return ready;
  }

  /** close stops forwarding; it is idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
  }
}
