// One RTSP session replaying a clip in real time, and the single pacer that drives every session of the process.
import type { Socket as UdpSocket } from 'node:dgram';
import type { Socket } from 'node:net';
import { randomInt } from 'node:crypto';
import type { Clip } from './clip.js';
import { RTP_HEADER_SIZE, senderReport, writeRtpHeader } from './rtp.js';
import { PAYLOAD_TYPE } from './sdp.js';

/** RtpTransport is where a session's RTP and RTCP go. */
export type RtpTransport =
  | { kind: 'tcp'; socket: Socket; rtpChannel: number; rtcpChannel: number }
  | { kind: 'udp'; rtp: UdpSocket; rtcp: UdpSocket; address: string; rtpPort: number; rtcpPort: number };

/** MAX_TCP_BACKLOG is how many unsent bytes a TCP session may queue before it drops pictures up to the next IDR. */
const MAX_TCP_BACKLOG = 4 * 1024 * 1024;
const SR_INTERVAL_MS = 5000;

/** PlaySession replays a clip with real-time pacing and continuous RTP timestamps. */
export class PlaySession {
  readonly id: string;
  readonly clip: Clip;
  readonly ssrc = randomInt(1, 0xffffffff);
  transport?: RtpTransport;
  /** stallAfterMs, when set, stops sending that long after PLAY (a fault knob). */
  stallAfterMs: () => number | undefined;
  #seq = randomInt(0, 0xffff);
  #tsBase = randomInt(0, 0x7fffffff);
  #frameNo = 0;
  #startedAt = 0;
  #lastSr = 0;
  #playing = false;
  #waitKey = false;
  packets = 0;
  octets = 0;

  constructor(id: string, clip: Clip, stallAfterMs: () => number | undefined) {
    this.id = id;
    this.clip = clip;
    this.stallAfterMs = stallAfterMs;
  }

  get playing(): boolean {
    return this.#playing;
  }

  /** rtpInfo returns the sequence number and timestamp of the next packet, for the RTP-Info header. */
  rtpInfo(): { seq: number; rtptime: number } {
    return { seq: this.#seq & 0xffff, rtptime: this.#timestamp(this.#frameNo) };
  }

  /** start begins pacing from the clip's first IDR, as a camera that sends a keyframe to each new client. */
  start(now: number): void {
    this.#startedAt = now - this.#frameNo * (1000 / this.clip.fps);
    this.#playing = true;
  }

  /** pause stops sending; a later start resumes with continuous timestamps. */
  pause(): void {
    this.#playing = false;
  }

  /** #timestamp is the RTP timestamp of a picture: its presentation time, which B-frames send out of order. */
  #timestamp(frameNo: number): number {
    const order = this.clip.order;
    const n = order ? frameNo - (frameNo % order.length) + order[frameNo % order.length]! : frameNo;
    return (this.#tsBase + Math.round((n * 90000) / this.clip.fps)) >>> 0;
  }

  /** pump sends every picture due by now. */
  pump(now: number): void {
    if (!this.#playing || !this.transport) return;
    const elapsed = now - this.#startedAt;
    const stall = this.stallAfterMs();
    if (stall !== undefined && elapsed > stall) return;
    const due = Math.floor((elapsed * this.clip.fps) / 1000);
    const frames = this.clip.frames;
    if (due - this.#frameNo > this.clip.fps) {
      // Far behind (the process was blocked): jump to the next IDR instead of flooding a burst of stale pictures.
      let next = due;
      while (!frames[next % frames.length]!.key) next++;
      this.#frameNo = next;
      this.#startedAt = now - next * (1000 / this.clip.fps);
    }
    while (this.#frameNo <= due) {
      this.#sendFrame(this.#frameNo);
      this.#frameNo++;
    }
    if (now - this.#lastSr >= SR_INTERVAL_MS) {
      this.#lastSr = now;
      this.#sendRtcp(senderReport(this.ssrc, Date.now(), this.#timestamp(this.#frameNo), this.packets, this.octets));
    }
  }

  #sendFrame(frameNo: number): void {
    const frame = this.clip.frames[frameNo % this.clip.frames.length]!;
    const ts = this.#timestamp(frameNo);
    const t = this.transport!;
    if (t.kind === 'tcp') {
      if (t.socket.writableLength > MAX_TCP_BACKLOG) {
        this.#waitKey = true;
        return;
      }
      if (this.#waitKey && !frame.key) return;
      this.#waitKey = false;
      const buf = Buffer.allocUnsafe(frame.payloads.length * (4 + RTP_HEADER_SIZE) + frame.bytes);
      let off = 0;
      frame.payloads.forEach((p, i) => {
        buf[off] = 0x24;
        buf[off + 1] = t.rtpChannel;
        buf.writeUInt16BE(RTP_HEADER_SIZE + p.length, off + 2);
        writeRtpHeader(buf, off + 4, PAYLOAD_TYPE, i === frame.payloads.length - 1, this.#seq++, ts, this.ssrc);
        p.copy(buf, off + 4 + RTP_HEADER_SIZE);
        off += 4 + RTP_HEADER_SIZE + p.length;
      });
      t.socket.write(buf);
    } else {
      frame.payloads.forEach((p, i) => {
        const header = Buffer.allocUnsafe(RTP_HEADER_SIZE);
        writeRtpHeader(header, 0, PAYLOAD_TYPE, i === frame.payloads.length - 1, this.#seq++, ts, this.ssrc);
        t.rtp.send([header, p], t.rtpPort, t.address);
      });
    }
    this.packets += frame.payloads.length;
    this.octets += frame.bytes;
  }

  #sendRtcp(packet: Buffer): void {
    const t = this.transport!;
    if (t.kind === 'tcp') {
      const head = Buffer.from([0x24, t.rtcpChannel, 0, 0]);
      head.writeUInt16BE(packet.length, 2);
      t.socket.write(Buffer.concat([head, packet]));
    } else {
      t.rtcp.send(packet, t.rtcpPort, t.address);
    }
  }
}
