// AAC to Opus for WebRTC, only while a feed of the stream exists (someone watches with sound offered): one ffmpeg per
// feed reads the bus's AAC frames (as ADTS on its stdin) and sends Opus RTP to a PlainTransport producer of the
// feed's router. Browsers take no AAC over WebRTC; G.711 needs none of this.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type * as ms from 'mediasoup/node/lib/types.js';
import type { AccessUnit, AudioParams } from '../core/access-unit.js';
import type { FrameBus } from '../core/frame-bus.js';

const OPUS_PT = 100;
/** MAX_PENDING_BYTES bounds what waits for ffmpeg (a stuck encoder loses sound, not memory). */
const MAX_PENDING_BYTES = 256 * 1024;

/** freeUdpPort finds a local UDP port nothing listens on now (the next one is taken for ffmpeg's RTCP). */
function freeUdpPort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createSocket('udp4');
    s.once('error', fail);
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => done(port < 65535 ? port : 40000));
    });
  });
}

/** adtsHeader is the 7-byte ADTS header of one AAC frame (ISO 13818-7 6.2), from the track's AudioSpecificConfig. */
export function adtsHeader(config: Buffer, frameBytes: number): Buffer {
  const objectType = config[0]! >> 3;
  const rateIndex = ((config[0]! & 7) << 1) | (config[1]! >> 7);
  const channels = (config[1]! >> 3) & 0x0f;
  const len = frameBytes + 7;
  return Buffer.from([
    0xff, 0xf1, (((objectType - 1) & 3) << 6) | (rateIndex << 2) | ((channels >> 2) & 1), ((channels & 3) << 6) | ((len >> 11) & 3),
    (len >> 3) & 0xff, ((len & 7) << 5) | 0x1f, 0xfc,
  ]);
}

/** OpusAudio is the Opus producer of one feed and the ffmpeg that makes it. */
export class OpusAudio {
  readonly producer: ms.Producer;
  #transport: ms.PlainTransport;
  #proc: ChildProcessByStdio<Writable, null, Readable>;
  #bus: FrameBus;
  #track: number;
  #params: AudioParams;
  #closed = false;
  #onUnit = (au: AccessUnit) => {
    if (au.track !== this.#track || this.#closed || !this.#params.config) return;
    if (this.#proc.stdin.writableLength > MAX_PENDING_BYTES) return;
    this.#proc.stdin.write(Buffer.concat([adtsHeader(this.#params.config, au.data.length), au.data]));
  };

  private constructor(bus: FrameBus, track: number, params: AudioParams, transport: ms.PlainTransport, producer: ms.Producer, proc: ChildProcessByStdio<Writable, null, Readable>) {
    this.#bus = bus;
    this.#track = track;
    this.#params = params;
    this.#transport = transport;
    this.producer = producer;
    this.#proc = proc;
    bus.on('unit', this.#onUnit);
    bus.on('params', (index, p) => {
      if (index === track && p.kind === 'audio') this.#params = p;
    });
  }

  /** start makes the producer on router and starts ffmpeg; onExit is told if ffmpeg ends by itself. */
  static async start(router: ms.Router, bus: FrameBus, ffmpegPath: string, onExit: (why: string) => void): Promise<OpusAudio | undefined> {
    const t = bus.tracks.find((x) => x.params.kind === 'audio' && x.params.codec === 'AAC');
    if (!t || t.params.kind !== 'audio' || !t.params.config) return undefined;
    // ffmpeg sends its RTCP from another port than its RTP: the transport is told its RTP port (a comedia transport
    // would take the port of whichever came first, and then ignore the other).
    const local = await freeUdpPort();
    const transport = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: false });
    await transport.connect({ ip: '127.0.0.1', port: local });
    // ffmpeg takes the SSRC as a signed 32-bit number.
    const ssrc = (randomBytes(4).readUInt32BE(0) & 0x7fffffff) || 1;
    let producer: ms.Producer;
    try {
      producer = await transport.produce({
        kind: 'audio',
        rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: OPUS_PT, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 }, rtcpFeedback: [] }], encodings: [{ ssrc }] },
      });
    } catch (err) {
      transport.close();
      throw err;
    }
    const port = transport.tuple.localPort;
    const proc = spawn(ffmpegPath, [
      '-hide_banner', '-loglevel', 'error', '-nostdin', '-fflags', '+nobuffer', '-probesize', '4096', '-f', 'aac', '-i', 'pipe:0',
      '-vn', '-c:a', 'libopus', '-b:a', '32k', '-application', 'lowdelay', '-frame_duration', '20', '-ar', '48000', '-ac', '2',
      '-f', 'rtp', '-payload_type', String(OPUS_PT), '-ssrc', String(ssrc), `rtp://127.0.0.1:${port}?rtcpport=${port}&localrtpport=${local}&localrtcpport=${local + 1}&pkt_size=1200`,
    ], { stdio: ['pipe', 'ignore', 'pipe'] });
    proc.stdin.on('error', () => undefined);
    let said = '';
    proc.stderr.on('data', (d: Buffer) => { said = (said + d.toString()).slice(-500); });
    const audio = new OpusAudio(bus, t.index, t.params, transport, producer, proc);
    proc.on('exit', (code) => {
      if (!audio.#closed) onExit(`the AAC to Opus transcode ended (exit ${code}): ${said.trim().split('\n').at(-1) ?? ''}`);
    });
    return audio;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#bus.off('unit', this.#onUnit);
    this.#proc.kill('SIGKILL');
    if (!this.#transport.closed) this.#transport.close();
  }
}
