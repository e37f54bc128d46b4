// Property-based fuzzing of what a camera controls: RTSP answers, SDP, RTP, the depacketizers and what they feed.
// Each property has a fixed budget of runs, so the suite's time does not depend on luck.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RtspProtocolError, RtspReader, type RtspResponse } from '../../../../adapters/rtsp/rtsp-connection.js';
import { parseRtp, RtpError, type RtpPacket } from '../../../../adapters/rtsp/rtp-packet.js';
import { parseSessionDescription, SdpError } from '../../../../adapters/rtsp/sdp.js';
import { packetizeNalu } from '../../../../adapters/simulator/rtp.js';
import type { AccessUnit, VideoParams } from '../../../../gateway/src/media/core/access-unit.js';
import { AacDepacketizer } from '../../../../gateway/src/media/core/audio-depacketizer.js';
import { FrameBus } from '../../../../gateway/src/media/core/frame-bus.js';
import { HlsOutput } from '../../../../gateway/src/media/core/ll-hls.js';
import { Reorderer } from '../../../../gateway/src/media/core/rtp-order.js';
import { H264Depacketizer, H265Depacketizer, MAX_PICTURE_BYTES, type Picture } from '../../../../gateway/src/media/core/video-depacketizer.js';

const RUNS = { numRuns: 300, seed: 20261201 };
const H264_SDP = parseSessionDescription(['v=0', 's=c', 't=0 0', 'm=video 0 RTP/AVP 96', 'a=rtpmap:96 H264/90000',
  'a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z2QAH6y0AoAt2AiAAAADAIAAABkHjBlQ,aO88sA==', ''].join('\r\n')).media[0]!;
const H265_SDP = parseSessionDescription(['v=0', 's=c', 't=0 0', 'm=video 0 RTP/AVP 96', 'a=rtpmap:96 H265/90000',
  'a=fmtp:96 sprop-vps=QAEMAf//AWAAAAMAkAAAAwAAAwB4lZgJ;sprop-sps=QgEBAWAAAAMAkAAAAwAAAwB4oAUCAXHy5ZWaSTK8BagICAggAAADACAAAAMDIQ==;sprop-pps=RAHBcrRiQA==', ''].join('\r\n')).media[0]!;

/** packet makes an RTP packet of a payload. */
const packet = (payload: Buffer, sequence: number, timestamp: number, marker: boolean): RtpPacket => ({ marker, payloadType: 96, sequence: sequence & 0xffff, timestamp: timestamp >>> 0, ssrc: 7, payload });

describe('RTSP answers from a hostile camera', () => {
  it('any bytes, in any reads: answers, frames or RtspProtocolError, and never more held than one answer', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 20 }), (chunks) => {
      const reader = new RtspReader(() => undefined, () => undefined);
      try {
        for (const c of chunks) {
          reader.push(Buffer.from(c));
          expect(reader.buffered).toBeLessThanOrEqual(16 * 1024 + 64 * 1024 + 4);
        }
      } catch (err) {
        expect(err).toBeInstanceOf(RtspProtocolError);
      }
    }), RUNS);
  });

  it('answers and interleaved frames split anywhere read the same as whole', () => {
    const answer = fc.record({
      status: fc.integer({ min: 100, max: 599 }),
      reason: fc.stringMatching(/^[A-Za-z ]{0,20}$/),
      headers: fc.dictionary(fc.stringMatching(/^[A-Za-z][A-Za-z-]{0,15}$/), fc.stringMatching(/^[!-~][ -~]{0,40}$/), { maxKeys: 6 }),
      body: fc.stringMatching(/^[ -~]{0,200}$/),
    });
    const item = fc.oneof(answer.map((a) => ({ a })), fc.record({ channel: fc.integer({ min: 0, max: 255 }), payload: fc.uint8Array({ maxLength: 1500 }) }).map((f) => ({ f })));
    fc.assert(fc.property(fc.array(item, { minLength: 1, maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 30 }), (items, cuts) => {
      const wire = Buffer.concat(items.map((it) => {
        if ('f' in it) return Buffer.concat([Buffer.from([0x24, it.f.channel, it.f.payload.length >> 8, it.f.payload.length & 0xff]), Buffer.from(it.f.payload)]);
        const headers = Object.entries(it.a.headers).filter(([k]) => k.toLowerCase() !== 'content-length').map(([k, v]) => `${k}: ${v}\r\n`).join('');
        return Buffer.from(`RTSP/1.0 ${it.a.status} ${it.a.reason}\r\n${headers}Content-Length: ${Buffer.byteLength(it.a.body)}\r\n\r\n${it.a.body}`, 'latin1');
      }));
      const got: Array<{ a: RtspResponse } | { f: { channel: number; payload: Buffer } }> = [];
      const reader = new RtspReader((a) => got.push({ a }), (channel, payload) => got.push({ f: { channel, payload: Buffer.from(payload) } }));
      let at = 0;
      for (const c of cuts) {
        if (at >= wire.length) break;
        reader.push(wire.subarray(at, at + c));
        at += c;
      }
      if (at < wire.length) reader.push(wire.subarray(at));
      expect(got).toHaveLength(items.length);
      items.forEach((it, i) => {
        const g = got[i]!;
        if ('f' in it) expect('f' in g && g.f.channel === it.f.channel && g.f.payload.equals(Buffer.from(it.f.payload))).toBe(true);
        else expect('a' in g && g.a.status === it.a.status && g.a.body === it.a.body).toBe(true);
      });
      expect(reader.buffered).toBe(0);
    }), RUNS);
  });
});

describe('SDP and RTP from a hostile camera', () => {
  it('any text is a session description or an SdpError', () => {
    const line = fc.oneof(fc.string({ maxLength: 80 }), fc.constantFrom('m=video 0 RTP/AVP 96', 'm=audio 0 RTP/AVP 97', 'a=rtpmap:96 H264/90000', 'a=fmtp:96 sprop-parameter-sets=%%%', 'a=rtpmap:97 MPEG4-GENERIC/16000/1', 'a=control:trackID=0', 'm=video 0 RTP/AVP 999999999999', 'c=IN IP4 0.0.0.0'));
    fc.assert(fc.property(fc.array(line, { maxLength: 40 }), (lines) => {
      try {
        const sdp = parseSessionDescription(['v=0', ...lines].join('\r\n'));
        for (const m of sdp.media) expect(typeof m.codec).toBe('string');
      } catch (err) {
        expect(err).toBeInstanceOf(SdpError);
      }
    }), RUNS);
  });

  it('any bytes are an RTP packet whose payload lies within them, or an RtpError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const b = Buffer.from(bytes);
      try {
        const p = parseRtp(b);
        expect(p.payload.byteOffset - b.byteOffset).toBeGreaterThanOrEqual(12);
        expect(p.payload.byteOffset + p.payload.length).toBeLessThanOrEqual(b.byteOffset + b.length);
      } catch (err) {
        expect(err).toBeInstanceOf(RtpError);
      }
    }), { ...RUNS, numRuns: 2000 });
  });
});

/** slice makes an H.264 slice NAL unit: IDR or P, starting at macroblock 0, naming PPS 0, its bytes its index. */
function slice(index: number, key: boolean, size: number): Buffer {
  const nal = Buffer.alloc(size, (index * 7) & 0xff);
  nal[0] = key ? 0x65 : 0x41;
  nal[1] = key ? 0x88 : 0x9a;
  nal[2] = key ? 0x80 : 0;
  nal.writeUInt32BE(index, 3);
  return nal;
}

describe('depacketizers fed by a hostile camera', () => {
  const payload = fc.oneof(
    fc.uint8Array({ minLength: 0, maxLength: 1400 }).map((b) => Buffer.from(b)),
    // Plausible headers with random bodies: STAP-A, FU-A (H.264); AP, FU (H.265).
    fc.tuple(fc.constantFrom(0x18, 0x1c, 0x65, 0x41, 0x67, 0x68, 0x60, 0x62, 0x26, 0x02), fc.uint8Array({ maxLength: 1400 })).map(([h, b]) => Buffer.concat([Buffer.from([h]), Buffer.from(b)])),
  );
  const stream = fc.array(fc.record({ payload, marker: fc.boolean(), tsStep: fc.constantFrom(0, 0, 3600, -3600, 0x7fffffff), seqStep: fc.constantFrom(1, 1, 1, 2, 0, -1, 5000) }), { maxLength: 120 });

  for (const [name, make] of [['H.264', (s: { params: (p: VideoParams) => void; picture: (p: Picture) => void }) => new H264Depacketizer(s, H264_SDP)], ['H.265', (s: { params: (p: VideoParams) => void; picture: (p: Picture) => void }) => new H265Depacketizer(s, H265_SDP)]] as const) {
    it(`${name}: any packets end in pictures within bounds, counted drops, and no exception`, () => {
      fc.assert(fc.property(stream, (packets) => {
        let params = 0;
        const d = make({ params: () => { params++; }, picture: (p) => {
          expect(params).toBeGreaterThan(0);
          expect(p.nals.length).toBeGreaterThan(0);
          expect(p.nals.reduce((n, x) => n + x.length, 0)).toBeLessThanOrEqual(MAX_PICTURE_BYTES);
        } });
        const r = new Reorderer({ packet: (p) => d.push(p, 0), lost: () => d.lost() }, { maxPackets: 8, maxDelayMs: 50 });
        let seq = 100;
        let ts = 1000;
        for (const p of packets) {
          seq += p.seqStep;
          ts += p.tsStep;
          r.push(packet(p.payload, seq, ts, p.marker), 0);
        }
        r.flush(1000);
      }), RUNS);
    });
  }

  it('H.264: a stream that loses, repeats and reorders packets yields only pictures the camera sent, never a corrupt one', () => {
    const frames = Array.from({ length: 40 }, (_, i) => ({ nal: slice(i, i % 10 === 0, 200 + ((i * 997) % 4000)), ts: i * 3600 }));
    const wire = frames.flatMap((f) => {
      const parts = packetizeNalu(f.nal, 1000);
      return parts.map((p, j) => ({ payload: p, ts: f.ts, marker: j === parts.length - 1 }));
    }).map((p, i) => packet(p.payload, 1000 + i, p.ts, p.marker));
    const originals = new Map(frames.map((f) => [f.ts, f.nal]));
    const edit = fc.array(fc.record({ at: fc.nat(), op: fc.constantFrom('drop', 'repeat', 'swap') }), { maxLength: 12 });
    fc.assert(fc.property(edit, (edits) => {
      const sent = [...wire];
      for (const e of edits) {
        const i = e.at % sent.length;
        if (e.op === 'drop') sent.splice(i, 1);
        else if (e.op === 'repeat') sent.splice(i, 0, sent[i]!);
        else if (i + 1 < sent.length) [sent[i], sent[i + 1]] = [sent[i + 1]!, sent[i]!];
      }
      const pictures: Picture[] = [];
      const d = new H264Depacketizer({ params: () => undefined, picture: (p) => pictures.push(p) }, H264_SDP);
      const r = new Reorderer({ packet: (p) => d.push(p, 0), lost: () => d.lost() }, { maxPackets: 4, maxDelayMs: 1000 });
      for (const p of sent) r.push(p, 0);
      r.flush(10_000);
      for (const pic of pictures) expect(Buffer.concat(pic.nals).equals(originals.get(pic.rtp)!)).toBe(true);
      // A picture after one that did not come is a keyframe: what depends on a lost picture waits for the next one.
      const shown = new Set(pictures.map((p) => p.rtp / 3600));
      for (const pic of pictures) {
        const i = pic.rtp / 3600;
        if (i > 0 && !pic.key) expect(shown.has(i - 1)).toBe(true);
      }
      // Without an edit, every picture comes through.
      if (edits.length === 0) expect(pictures).toHaveLength(frames.length);
    }), RUNS);
  });

  it('AAC: any payloads end in frames or counted malformed packets', () => {
    const sdp = parseSessionDescription(['v=0', 's=a', 't=0 0', 'm=audio 0 RTP/AVP 97', 'a=rtpmap:97 mpeg4-generic/16000/1',
      'a=fmtp:97 streamtype=5;mode=AAC-hbr;config=1408;sizelength=13;indexlength=3;indexdeltalength=3', ''].join('\r\n')).media[0]!;
    fc.assert(fc.property(fc.array(fc.tuple(fc.uint8Array({ maxLength: 600 }), fc.boolean()), { maxLength: 60 }), (packets) => {
      const d = new AacDepacketizer(sdp, { frame: (f) => expect(f.data.length).toBeGreaterThan(0) });
      packets.forEach(([b, marker], i) => d.push(packet(Buffer.from(b), i, i * 1024, marker), 0));
      expect(d.stats.frames + d.stats.malformed).toBeLessThanOrEqual(packets.length * 8192);
    }), RUNS);
  });
});

describe('LL-HLS fed any access units', () => {
  const params: VideoParams = { kind: 'video', codec: 'H264', sps: Buffer.from('Z2QAH6y0AoAt2AiAAAADAIAAABkHjBlQ', 'base64'), pps: Buffer.from('aO88sA==', 'base64'), width: 1280, height: 720, codecString: 'avc1.64001f', reorder: 0 };
  it('keeps a well-formed playlist: a continuous media sequence, parts within their target, segments within the window', () => {
    const step = fc.record({ key: fc.boolean(), dt: fc.oneof(fc.constant(3600), fc.integer({ min: -90_000, max: 900_000 })), size: fc.integer({ min: 1, max: 5000 }), restart: fc.boolean() });
    fc.assert(fc.property(fc.array(step, { maxLength: 300 }), (steps) => {
      const bus = new FrameBus();
      const hls = new HlsOutput(bus, { partTargetMs: 300, segmentSeconds: 1, windowSegments: 5, maxBytes: 4_000_000 });
      bus.begin([params]);
      let pts = 0;
      for (const s of steps) {
        if (s.restart && s.size % 20 === 0) bus.begin([params]);
        pts += s.dt;
        const au: AccessUnit = { track: 0, pts, dts: pts, key: s.key, data: Buffer.alloc(s.size), at: Date.now() };
        bus.publish(au);
      }
      for (const lowLatency of [true, false]) {
        const text = hls.playlist(lowLatency);
        const msns = [...text.matchAll(/^seg-(\d+)\.m4s$/gm)].map((m) => Number(m[1]));
        expect(msns).toEqual(msns.map((_, i) => (msns[0] ?? 0) + i));
        expect(msns.length).toBeLessThanOrEqual(5);
        const target = Number(/#EXT-X-TARGETDURATION:(\d+)/.exec(text)![1]);
        for (const m of text.matchAll(/#EXTINF:([\d.]+),/g)) expect(Math.round(Number(m[1]))).toBeLessThanOrEqual(target);
        for (const m of text.matchAll(/#EXT-X-PART:DURATION=([\d.]+)/g)) expect(Number(m[1])).toBeGreaterThan(0);
        expect(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.test(text)).toBe(true);
      }
      hls.close();
    }), { ...RUNS, numRuns: 150 });
  });
});
