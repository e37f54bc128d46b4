// One RTSP session replaying a clip in real time, and the single pacer that drives every session of the process.
import type { Socket as UdpSocket } from 'node:dgram';
import type { Socket } from 'node:net';
import { randomInt } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import type { CameraFaults } from './camera-farm.js';
import type { AudioClip, Clip } from './clip.js';
import { RTP_HEADER_SIZE, writeRtpHeader } from './rtp.js';
import { senderReport } from '../rtsp/rtcp.js';
import { AUDIO_PAYLOAD_TYPE, PAYLOAD_TYPE } from './sdp.js';

/** RtpTransport is where a session's RTP and RTCP go. */
export type RtpTransport =
  | { kind: 'tcp'; socket: Socket; rtpChannel: number; rtcpChannel: number }
  | { kind: 'udp'; rtp: UdpSocket; rtcp: UdpSocket; address: string; rtpPort: number; rtcpPort: number };

/** MAX_TCP_BACKLOG is how many unsent bytes a TCP session may queue before it drops pictures up to the next IDR. */
const MAX_TCP_BACKLOG = 4 * 1024 * 1024;
const SR_INTERVAL_MS = 5000;

/** AudioTrack is a session's audio: its clip, where it goes and its own RTP numbering. */
interface AudioTrack {
  clip: AudioClip;
  transport: RtpTransport;
  ssrc: number;
  seq: number;
  tsBase: number;
  frameNo: number;
}

/** PlaySession replays a clip with real-time pacing and continuous RTP timestamps. */
export class PlaySession {
  readonly id: string;
  clip: Clip;
  readonly ssrc = randomInt(1, 0xffffffff);
  transport?: RtpTransport;
  /** faults are the camera's knobs, read as each picture goes (they may change while it plays). */
  faults: () => CameraFaults;
  /** otherSize is the clip a resolution change switches to. */
  otherSize?: Clip;
  /** sentAt holds, for a clip that shows picture indexes, when each index was last sent (ms since the epoch). */
  readonly sentAt: Float64Array;
  #audio?: AudioTrack;
  #seq = randomInt(0, 0xffff);
  #tsBase = randomInt(0, 0x7fffffff);
  #frameNo = 0;
  /** clipStart is the frame number at which the current clip began (a resolution change starts another). */
  #clipStart = 0;
  #switched = false;
  #jumped = false;
  #sync = false;
  #startedAt = 0;
  #lastSr = 0;
  #playing = false;
  #waitKey = false;
  /** held is a UDP packet kept back to be sent after the next one (the reorder knob). */
  #held?: Buffer[];
  packets = 0;
  octets = 0;

  constructor(id: string, clip: Clip, faults: () => CameraFaults, otherSize?: Clip) {
    this.id = id;
    this.clip = clip;
    this.faults = faults;
    this.otherSize = otherSize;
    this.sentAt = new Float64Array(clip.frames.length);
  }

  /** setAudio sends an audio track along with the video. */
  setAudio(clip: AudioClip, transport: RtpTransport): { ssrc: number } {
    this.#audio = { clip, transport, ssrc: randomInt(1, 0xffffffff), seq: randomInt(0, 0xffff), tsBase: randomInt(0, 0x7fffffff), frameNo: 0 };
    return { ssrc: this.#audio.ssrc };
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

  /**
   * syncPoint makes the next picture a keyframe, as a camera does on ONVIF SetSynchronizationPoint: the clip goes on
   * from its next IDR, the timestamps as they were.
   */
  syncPoint(): void {
    this.#sync = true;
  }

  /** pause stops sending; a later start resumes with continuous timestamps. */
  pause(): void {
    this.#playing = false;
  }

  /** #timestamp is the RTP timestamp of a picture: its presentation time, which B-frames send out of order. */
  #timestamp(frameNo: number): number {
    const order = this.clip.order;
    const i = frameNo - this.#clipStart;
    const n = order ? this.#clipStart + i - (i % order.length) + order[i % order.length]! : frameNo;
    return (this.#tsBase + Math.round((n * 90000) / this.clip.fps)) >>> 0;
  }

  /** pump sends every picture due by now. */
  pump(now: number): void {
    if (!this.#playing || !this.transport) return;
    const elapsed = now - this.#startedAt;
    const faults = this.faults();
    const stall = faults.stallAfterMs;
    if (stall !== undefined && elapsed > stall) return;
    if (!this.#jumped && faults.timestampJumpAfterMs !== undefined && elapsed > faults.timestampJumpAfterMs) {
      // The encoder's clock jumps (a camera resetting its time): an hour ahead, once.
      this.#jumped = true;
      this.#tsBase = (this.#tsBase + 3600 * 90000) >>> 0;
    }
    const due = Math.floor((elapsed * this.clip.fps) / 1000);
    const frames = this.clip.frames;
    if (due - this.#frameNo > this.clip.fps) {
      // Far behind (the process was blocked): jump to the next IDR instead of flooding a burst of stale pictures.
      let next = due;
      while (!frames[(next - this.#clipStart) % frames.length]!.key) next++;
      this.#frameNo = next;
      this.#startedAt = now - next * (1000 / this.clip.fps);
    }
    while (this.#frameNo <= due) {
      this.#sendFrame(this.#frameNo, faults, elapsed);
      this.#frameNo++;
    }
    this.#pumpAudio(elapsed, faults);
    if (now - this.#lastSr >= SR_INTERVAL_MS) {
      this.#lastSr = now;
      this.#sendRtcp(senderReport(this.ssrc, Date.now(), this.#timestamp(this.#frameNo), this.packets, this.octets));
    }
  }

  #sendFrame(frameNo: number, faults: CameraFaults, elapsed: number): void {
    if (!this.#switched && this.otherSize && faults.resolutionChangeAfterMs !== undefined && elapsed > faults.resolutionChangeAfterMs
      && this.clip.frames[(frameNo - this.#clipStart) % this.clip.frames.length]!.key) {
      // The camera's picture size changes (an operator set another resolution): from this keyframe, the other clip.
      this.#switched = true;
      this.clip = this.otherSize;
      this.#clipStart = frameNo;
    }
    let index = (frameNo - this.#clipStart) % this.clip.frames.length;
    if (this.#sync) {
      this.#sync = false;
      const frames = this.clip.frames;
      let skip = 0;
      while (!frames[(index + skip) % frames.length]!.key && skip < frames.length) skip++;
      this.#clipStart -= skip;
      index = (index + skip) % frames.length;
    }
    const frame = this.clip.frames[index]!;
    const ts = this.#timestamp(frameNo);
    const t = this.transport!;
    if (index < this.sentAt.length) this.sentAt[index] = Date.now();
    if (faults.lossPercent || faults.garbagePercent || (faults.reorderPercent && t.kind === 'udp')) return this.#sendDamaged(frame.payloads, ts, faults);
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

  /** #sendDamaged sends a picture's packets one by one, with the loss, garbage and reorder knobs applied. */
  #sendDamaged(payloads: Buffer[], ts: number, faults: CameraFaults): void {
    const t = this.transport!;
    payloads.forEach((p, i) => {
      const seq = this.#seq++;
      if (faults.lossPercent && Math.random() * 100 < faults.lossPercent) return;
      const payload = faults.garbagePercent && Math.random() * 100 < faults.garbagePercent ? randomBytes(Math.max(1, p.length)) : p;
      const header = Buffer.allocUnsafe(RTP_HEADER_SIZE);
      writeRtpHeader(header, 0, PAYLOAD_TYPE, i === payloads.length - 1, seq, ts, this.ssrc);
      this.packets++;
      this.octets += payload.length;
      if (t.kind === 'tcp') {
        const head = Buffer.from([0x24, t.rtpChannel, 0, 0]);
        head.writeUInt16BE(RTP_HEADER_SIZE + payload.length, 2);
        t.socket.write(Buffer.concat([head, header, payload]));
        return;
      }
      if (this.#held) {
        t.rtp.send([header, payload], t.rtpPort, t.address);
        t.rtp.send(this.#held, t.rtpPort, t.address);
        this.#held = undefined;
      } else if (faults.reorderPercent && Math.random() * 100 < faults.reorderPercent) {
        this.#held = [header, payload];
      } else {
        t.rtp.send([header, payload], t.rtpPort, t.address);
      }
    });
  }

  /** #pumpAudio sends the audio frames due by elapsed. */
  #pumpAudio(elapsed: number, faults: CameraFaults): void {
    const a = this.#audio;
    if (!a) return;
    const due = Math.floor((elapsed / 1000) * a.clip.rate / a.clip.frameSamples);
    if (due - a.frameNo > 50) a.frameNo = due;
    for (; a.frameNo <= due; a.frameNo++) {
      const frame = a.clip.frames[a.frameNo % a.clip.frames.length]!;
      const ts = (a.tsBase + a.frameNo * a.clip.frameSamples) >>> 0;
      const seq = a.seq++;
      if (faults.lossPercent && Math.random() * 100 < faults.lossPercent) continue;
      let payload = frame;
      if (a.clip.codec === 'AAC') {
        // RFC 3640 AAC-hbr: a 16-bit AU-headers-length, one header of a 13-bit size and a 3-bit index.
        const head = Buffer.allocUnsafe(4);
        head.writeUInt16BE(16, 0);
        head.writeUInt16BE((frame.length << 3) & 0xfff8, 2);
        payload = Buffer.concat([head, frame]);
      }
      const header = Buffer.allocUnsafe(RTP_HEADER_SIZE);
      writeRtpHeader(header, 0, AUDIO_PAYLOAD_TYPE[a.clip.codec], true, seq, ts, a.ssrc);
      const t = a.transport;
      if (t.kind === 'tcp') {
        if (t.socket.writableLength > MAX_TCP_BACKLOG) continue;
        const head = Buffer.from([0x24, t.rtpChannel, 0, 0]);
        head.writeUInt16BE(RTP_HEADER_SIZE + payload.length, 2);
        t.socket.write(Buffer.concat([head, header, payload]));
      } else {
        t.rtp.send([header, payload], t.rtpPort, t.address);
      }
    }
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
