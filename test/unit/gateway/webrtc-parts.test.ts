// The media parts that need no worker or process: WebRTC's, RTP cut again from access units (read back by the core's own depacketizers
// and checked against RFC 6184 / RFC 7798 framing), WHEP offers read and refused, the codec chosen from an offer; FLV tags written and read back.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRtp } from '../../../adapters/rtsp/rtp-packet.js';
import { lengthPrefixed, type AccessUnit, type VideoParams } from '../../../gateway/src/media/core/access-unit.js';
import { RtpClock, RtpPacketizer, RTP_MTU } from '../../../gateway/src/media/core/rtp-packetizer.js';
import { H264Depacketizer, h265Params, type Picture } from '../../../gateway/src/media/core/video-depacketizer.js';
import { FlvError, FlvReader, FlvWriter, tagTime } from '../../../gateway/src/media/flv.js';
import { PushPipeline, type RtmpIngest } from '../../../gateway/src/media/rtmp-in.js';
import { FrameBus } from '../../../gateway/src/media/core/frame-bus.js';
import { isKeyframeRequest } from '../../../gateway/src/media/webrtc/bus-feed.js';
import { chooseCodecs } from '../../../gateway/src/media/webrtc/codec-choice.js';
import { parseOffer, SdpError, writeAnswer } from '../../../gateway/src/media/webrtc/whep-sdp.js';

// The simulator's main stream parameter sets: High profile 1280x720.
const SPS = Buffer.from('Z2QAH6y0AoAt2AiAAAADAIAAABkHjBlQ', 'base64');
const PPS = Buffer.from('aO88sA==', 'base64');
const H264: VideoParams = { kind: 'video', codec: 'H264', sps: SPS, pps: PPS, width: 1280, height: 720, codecString: 'avc1.64001f', reorder: 0 };

function slice(index: number, key: boolean, size: number): Buffer {
  const nal = Buffer.alloc(size, index & 0xff);
  nal[0] = key ? 0x65 : 0x41;
  nal[1] = key ? 0x88 : 0x9a;
  nal[2] = key ? 0x80 : 0x00;
  nal.writeUInt32BE(index, 3);
  return nal;
}

function unit(index: number, key: boolean, sizes: number[]): AccessUnit {
  return { track: 0, pts: index * 3600, dts: index * 3600, key, data: lengthPrefixed(sizes.map((n) => slice(index, key, n))), at: 0 };
}

describe('RTP packetizer', () => {
  it('cuts H.264 pictures into single NAL units and FU-A within the MTU, parameter sets before each keyframe, marker on the last', () => {
    const p = new RtpPacketizer(102, 0x1234);
    const out: Buffer[] = [];
    const units = [unit(0, true, [5000]), unit(1, false, [300, 900]), unit(2, false, [1200]), unit(3, false, [1201])];
    for (const u of units) p.packetize(u, H264, u.pts, (b) => out.push(b));
    const packets = out.map((b) => parseRtp(b));
    for (const b of out) expect(b.length).toBeLessThanOrEqual(12 + RTP_MTU);
    // Sequence numbers follow on; the marker closes each picture.
    packets.forEach((x, i) => i > 0 && expect(x.sequence).toBe((packets[i - 1]!.sequence + 1) & 0xffff));
    expect(packets.filter((x) => x.marker).map((x) => x.timestamp)).toEqual([0, 3600, 7200, 10800]);
    expect(packets[0]!.payload.equals(SPS)).toBe(true);
    expect(packets[1]!.payload.equals(PPS)).toBe(true);
    expect(packets[2]!.payload[0]! & 0x1f).toBe(28);
    expect(packets[2]!.payload[1]).toBe(0x80 | 5);
    // Read back by the core's own depacketizer: every picture byte for byte.
    const pictures: Picture[] = [];
    const d = new H264Depacketizer({ params: () => undefined, picture: (x) => pictures.push(x) });
    for (const x of packets) d.push(x, 0);
    expect(pictures.map((x) => x.key)).toEqual([true, false, false, false]);
    pictures.forEach((pic, i) => {
      const want = units[i]!;
      const nals = Buffer.concat(pic.nals.filter((n) => (n[0]! & 0x1f) !== 7 && (n[0]! & 0x1f) !== 8));
      expect(nals.equals(Buffer.concat([...lengthPrefixedNals(want.data)]))).toBe(true);
    });
  });

  it('cuts H.265 pictures into FUs (type 49) with the VPS, SPS and PPS before a keyframe', () => {
    const vps = Buffer.from([0x40, 0x01, 0x0c, 0x01]);
    const sps = Buffer.from([0x42, 0x01, 0x01, 0x01]);
    const pps = Buffer.from([0x44, 0x01, 0xc1, 0x72]);
    const params: VideoParams = { kind: 'video', codec: 'H265', vps, sps, pps, width: 640, height: 360, codecString: 'hvc1.1.6.L93.B0', reorder: 0 };
    const idr = Buffer.alloc(3000, 7);
    idr[0] = 19 << 1;
    idr[1] = 1;
    const p = new RtpPacketizer(96);
    const out: Buffer[] = [];
    p.packetize({ track: 0, pts: 0, dts: 0, key: true, data: lengthPrefixed([idr]), at: 0 }, params, 0, (b) => out.push(b));
    const packets = out.map((b) => parseRtp(b));
    expect(packets.slice(0, 3).map((x) => x.payload)).toEqual([vps, sps, pps]);
    const fus = packets.slice(3);
    expect(fus.length).toBe(Math.ceil((3000 - 2) / (RTP_MTU - 3)));
    for (const f of fus) expect((f.payload[0]! >> 1) & 0x3f).toBe(49);
    expect(fus[0]!.payload[2]).toBe(0x80 | 19);
    expect(fus.at(-1)!.payload[2]).toBe(0x40 | 19);
    // The FU payloads after their three header bytes, behind the NAL header, are the NAL unit again.
    expect(Buffer.concat([idr.subarray(0, 2), ...fus.map((f) => f.payload.subarray(3))]).equals(idr)).toBe(true);
    expect(packets.filter((x) => x.marker)).toEqual([fus.at(-1)]);
  });

  it('keeps RTP time going forward across an upstream restart, by the wall clock between', () => {
    const c = new RtpClock(90000, 1000);
    expect(c.rtp(5_000_000, 0)).toBe(1000);
    expect(c.rtp(5_003_600, 40)).toBe(4600);
    c.restart(1040);
    // The new run starts its own timestamps anywhere (even before): RTP time follows on 1 s later.
    expect(c.rtp(12, 1040)).toBe(4600 + 90000);
    expect(c.rtp(3612, 1080)).toBe(4600 + 90000 + 3600);
  });

  it('recognises PLI and FIR in compound RTCP, and nothing else', () => {
    const rr = Buffer.from([0x81, 201, 0, 7, ...new Array(28).fill(0)]);
    const pli = Buffer.from([0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]);
    const fir = Buffer.from([0x84, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0, 0]);
    const nack = Buffer.from([0x81, 205, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 5, 0, 0]);
    expect(isKeyframeRequest(Buffer.concat([rr, pli]))).toBe(true);
    expect(isKeyframeRequest(fir)).toBe(true);
    expect(isKeyframeRequest(Buffer.concat([rr, nack]))).toBe(false);
    expect(isKeyframeRequest(Buffer.from([0x81]))).toBe(false);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      isKeyframeRequest(Buffer.from(bytes));
    }));
  });
});

function* lengthPrefixedNals(data: Buffer): Generator<Buffer> {
  let at = 0;
  while (at + 4 <= data.length) {
    const n = data.readUInt32BE(at);
    yield data.subarray(at + 4, at + 4 + n);
    at += 4 + n;
  }
}

// An offer as Chromium 156 writes it for recvonly video and audio (cut to what matters, in its order and ids).
const OFFER = [
  'v=0', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1', 'a=extmap-allow-mixed', 'a=msid-semantic: WMS',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 108 109 116 41', 'c=IN IP4 0.0.0.0', 'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:kG5c', 'a=ice-pwd:7X1MiD3hR0b9zS4l2OeVxk6a', 'a=ice-options:trickle',
  'a=fingerprint:sha-256 CA:05:A2:D3:8A:DE:7C:4E:53:F7:01:A7:D0:23:93:64:D6:90:F6:F1:01:7A:47:56:66:25:0A:4C:E9:59:AB:22',
  'a=setup:actpass', 'a=mid:0', 'a=extmap:9 urn:ietf:params:rtp-hdrext:sdes:mid', 'a=recvonly', 'a=rtcp-mux', 'a=rtcp-rsize',
  'a=rtpmap:96 VP8/90000', 'a=rtcp-fb:96 nack', 'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96',
  'a=rtpmap:102 H264/90000', 'a=rtcp-fb:102 nack', 'a=rtcp-fb:102 nack pli', 'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f',
  'a=rtpmap:103 rtx/90000', 'a=fmtp:103 apt=102',
  'a=rtpmap:108 H264/90000', 'a=rtcp-fb:108 nack', 'a=rtcp-fb:108 nack pli', 'a=rtcp-fb:108 ccm fir', 'a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:109 rtx/90000', 'a=fmtp:109 apt=108',
  'a=rtpmap:116 H264/90000', 'a=fmtp:116 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f',
  'a=rtpmap:41 H264/90000', 'a=fmtp:41 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 8 0', 'c=IN IP4 0.0.0.0', 'a=mid:1', 'a=recvonly', 'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2', 'a=fmtp:111 minptime=10;useinbandfec=1', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:0 PCMU/8000', '',
].join('\r\n');

describe('WHEP offers', () => {
  it('reads a browser offer: sections, codecs with their payload types and feedback, DTLS and ICE', () => {
    const o = parseOffer(OFFER);
    expect(o.sections).toEqual([{ mid: '0', kind: 'video', receives: true }, { mid: '1', kind: 'audio', receives: true }]);
    expect(o.dtlsParameters.role).toBe('client');
    expect(o.dtlsParameters.fingerprints[0]!.algorithm).toBe('sha-256');
    expect(o.iceUfrag).toBe('kG5c');
    expect([...o.videoCodecs].sort()).toEqual(['H264', 'RTX', 'VP8']);
    const cb = o.rtpCapabilities.codecs!.find((c) => c.preferredPayloadType === 108)!;
    expect(cb).toMatchObject({ mimeType: 'video/H264', clockRate: 90000, parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f' } });
    expect(cb.rtcpFeedback).toEqual([{ type: 'nack', parameter: '' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }]);
    expect(o.rtpCapabilities.codecs!.find((c) => c.mimeType === 'audio/opus')).toMatchObject({ channels: 2, preferredPayloadType: 111 });
  });

  it('chooses the browser\'s Constrained Baseline payload type for a High-profile camera, at the camera\'s level, and G.711 as it is', () => {
    const o = parseOffer(OFFER);
    const choice = chooseCodecs(o.rtpCapabilities.codecs!, { ...H264, sps: Buffer.from([0x67, 0x64, 0x00, 0x28]) }, { kind: 'audio', codec: 'PCMA', sampleRate: 8000, clockRate: 8000, channels: 1, codecString: 'alaw' })!;
    expect(choice.routerCodecs[0]).toMatchObject({ mimeType: 'video/H264', preferredPayloadType: 108, parameters: { 'profile-level-id': '42e01f' } });
    expect(choice.video.parameters!['profile-level-id']).toBe('42e028');
    expect(choice.routerCodecs[1]).toMatchObject({ mimeType: 'audio/PCMA', preferredPayloadType: 8 });
    // An H.265 camera and a browser that offers none: no choice (the transcoder's business).
    expect(chooseCodecs(o.rtpCapabilities.codecs!, { ...H264, codec: 'H265' })).toBeUndefined();
    // A browser that decodes H.265 (Safari, Chrome with hardware decoding) gets it untouched, under its own payload type.
    const withHevc = parseOffer(OFFER.replace('m=video 9 UDP/TLS/RTP/SAVPF 96 97 102', 'm=video 9 UDP/TLS/RTP/SAVPF 49 96 97 102').replace('a=rtpmap:96 VP8/90000', 'a=rtpmap:49 H265/90000\r\na=rtcp-fb:49 nack pli\r\na=rtpmap:96 VP8/90000'));
    expect(withHevc.videoCodecs.has('H265')).toBe(true);
    const hevc = chooseCodecs(withHevc.rtpCapabilities.codecs!, { ...H264, codec: 'H265' })!;
    expect(hevc.routerCodecs[0]).toMatchObject({ mimeType: 'video/H265', preferredPayloadType: 49 });
    expect(hevc.video.mimeType).toBe('video/H265');
  });

  it('writes an answer that keeps every section, rejecting those it sends nothing on', () => {
    const o = parseOffer(OFFER);
    const answer = writeAnswer(o, {
      iceParameters: { usernameFragment: 'srvufrag', password: 'srvpassword0123456789', iceLite: true },
      iceCandidates: [{ foundation: 'udpcandidate', priority: 1076558079, ip: '127.0.0.1', protocol: 'udp', port: 40000, type: 'host', tcpType: undefined as unknown as 'passive' },
        { foundation: 'tcpcandidate', priority: 1076276479, ip: '127.0.0.1', protocol: 'tcp', port: 40000, type: 'host', tcpType: 'passive' }],
      dtlsParameters: { role: 'auto', fingerprints: [{ algorithm: 'sha-256', value: 'AA:BB' }] },
      remoteRole: 'client',
    }, [{ mid: '0', kind: 'video', rtpParameters: { codecs: [{ mimeType: 'video/H264', payloadType: 108, clockRate: 90000, parameters: { 'packetization-mode': 1 }, rtcpFeedback: [{ type: 'nack', parameter: 'pli' }] }], encodings: [{ ssrc: 42 }], headerExtensions: [] } }], 'cname', 'cam-1');
    expect(answer).toMatch(/^v=0\r\n/);
    expect(answer).toContain('a=ice-lite');
    expect(answer).toContain('a=group:BUNDLE 0\r\n');
    expect(answer).toContain('m=video 40000 UDP/TLS/RTP/SAVPF 108');
    expect(answer).toContain('a=setup:passive');
    expect(answer).toContain('a=sendonly');
    expect(answer).toContain('a=rtcp-fb:108 nack pli');
    expect(answer).toContain('a=candidate:tcpcandidate 1 tcp 1076276479 127.0.0.1 40000 typ host tcptype passive');
    expect(answer).toContain('a=ssrc:42 cname:cname');
    expect(answer).toMatch(/m=audio 0 UDP\/TLS\/RTP\/SAVPF 0\r\n[\s\S]*a=mid:1\r\n[\s\S]*a=inactive/);
  });

  it('refuses what is not an offer it can answer, naming what is wrong', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty/],
      ['hello', /v=0/],
      [OFFER.replace(/a=fingerprint:[^\r]*\r\n/, ''), /fingerprint/],
      [OFFER.replace(/a=mid:0\r\n/, ''), /media section 1 \(m=video\) has no usable a=mid/],
      [OFFER.replace('a=recvonly', 'a=sendonly'), /no video section that receives/],
      [OFFER.replace('a=rtpmap:102 H264/90000', 'a=rtpmap:102 H264/0'), /payload type 102 has no usable clock rate/],
      [OFFER + 'x'.repeat(70_000), /larger than/],
      ['v=0\r\ns=-\r\n', /no media section/],
    ];
    for (const [text, why] of cases) {
      expect(() => parseOffer(text), why.source).toThrow(SdpError);
      expect(() => parseOffer(text)).toThrow(why);
    }
  });

  it('never fails otherwise on any text (fuzzed around a real offer)', () => {
    const lines = OFFER.split('\r\n');
    fc.assert(fc.property(fc.array(fc.oneof(fc.constantFrom(...lines), fc.string({ maxLength: 60 })), { maxLength: 60 }), (picked) => {
      try {
        parseOffer(['v=0', ...picked].join('\r\n'));
      } catch (err) {
        if (!(err instanceof SdpError)) throw err;
      }
    }), { numRuns: 300 });
  });
});

describe('FLV tags', () => {
  const parse = (tag: Buffer) => ({ type: tag[0]!, ms: tagTime(tag), body: tag.subarray(11, 11 + tag.readUIntBE(1, 3)) });

  it('writes H.264 and AAC as FLV and reads them back: parameters, times, keyframes, NAL units', () => {
    const w = new FlvWriter();
    const r = new FlvReader();
    const seq = parse(w.sequenceHeader(H264, 0)!);
    expect(seq.type).toBe(9);
    const params = r.readVideo(seq.body, 0);
    expect(params && 'params' in params && params.params).toMatchObject({ codec: 'H264', width: 1280, height: 720 });
    const au = unit(3, true, [1500, 200]);
    const t = parse(w.unit({ ...au, pts: 3 * 3600 + 7200, dts: 3 * 3600 }, H264)!);
    expect(t.ms).toBe(0);
    const back = r.readVideo(t.body, t.ms);
    expect(back && 'unit' in back && back.unit).toMatchObject({ key: true, dts: 0, pts: 7200 });
    expect(back && 'unit' in back && back.unit.data.equals(au.data)).toBe(true);
    const aac = { kind: 'audio' as const, codec: 'AAC' as const, sampleRate: 16000, clockRate: 16000, channels: 1, config: Buffer.from([0x14, 0x08]), codecString: 'mp4a.40.2' };
    const a = r.readAudio(parse(w.sequenceHeader(aac, 0)!).body, 0);
    expect(a && 'params' in a && a.params).toMatchObject({ codec: 'AAC', sampleRate: 16000, channels: 1 });
  });

  it('writes H.265 with the enhanced-RTMP header (FourCC hvc1) and reads it back', () => {
    const vps = Buffer.from('QAEMAf//AWAAAAMAkAAAAwAAAwBdlZgJ', 'base64');
    const sps = Buffer.from('QgEBAWAAAAMAkAAAAwAAAwBdoAKAgC0WWVmkkyvAQEAAAAMAQAAABkI=', 'base64');
    const pps = Buffer.from('RAHBcrRiQA==', 'base64');
    const params = h265Params(vps, sps, pps);
    const w = new FlvWriter();
    const r = new FlvReader();
    const seq = parse(w.sequenceHeader(params, 0)!);
    expect(seq.body[0]! & 0x80).toBe(0x80);
    expect(seq.body.subarray(1, 5).toString()).toBe('hvc1');
    const p = r.readVideo(seq.body, 0);
    expect(p && 'params' in p && p.params).toMatchObject({ codec: 'H265', width: params.width, height: params.height });
    const idr = Buffer.alloc(900, 3);
    idr[0] = 19 << 1;
    idr[1] = 1;
    const t = parse(w.unit({ track: 0, pts: 0, dts: 0, key: true, data: lengthPrefixed([idr]), at: 0 }, params)!);
    const back = r.readVideo(t.body, t.ms);
    expect(back && 'unit' in back && back.unit.key).toBe(true);
    expect(back && 'unit' in back && back.unit.data.equals(lengthPrefixed([idr]))).toBe(true);
  });

  /** pushRig starts a push pipeline fed by hand, tag by tag, into a real frame bus. */
  function pushRig(camera: string) {
    let feed: ((type: number, ms: number, body: Buffer) => void) | undefined;
    const ingest = { attach: (_c: string, onTag: typeof feed) => { feed = onTag; return () => undefined; }, isPublishing: () => true } as unknown as RtmpIngest;
    const bus = new FrameBus();
    const pipe = new PushPipeline({ camera, ingest, bus, startTimeoutMs: 5000, stallTimeoutMs: 5000 });
    const live = new Promise<void>((r) => pipe.once('live', () => r()));
    pipe.start();
    const w = new FlvWriter();
    const send = (tag: Buffer | undefined) => { const t = parse(tag!); feed!(t.type, t.ms, t.body); };
    return { bus, pipe, live, w, send };
  }

  it('carries a push\'s audio whose header comes after its first picture (an encoder may send it so)', async () => {
    // A stand-in for the RTMP server: the order of tags is the fault, which ffmpeg pushes show only now and then.
    const { bus, pipe, live, w, send } = pushRig('push-1');
    const aac = { kind: 'audio' as const, codec: 'AAC' as const, sampleRate: 16000, clockRate: 16000, channels: 1, config: Buffer.from([0x14, 0x08]), codecString: 'mp4a.40.2' };
    send(w.sequenceHeader(H264, 0));
    send(w.unit({ ...unit(0, true, [800]) }, H264));
    send(w.unit({ ...unit(1, false, [300]) }, H264));
    send(w.sequenceHeader(aac, 40));
    send(w.unit({ track: 1, pts: 640, dts: 640, key: true, data: Buffer.alloc(40, 7), at: 0 }, aac));
    send(w.unit({ ...unit(2, false, [300]) }, H264));
    await live;
    expect(bus.tracks.map((t) => t.params.codec)).toEqual(['H264', 'AAC']);
    // The pictures held while the audio's header was awaited were not lost.
    expect(pipe.stats().frames).toBe(3);
    await pipe.stop();
  });

  it('begins with video alone when a push has no audio, half a second after its first picture', async () => {
    const { bus, pipe, live, w, send } = pushRig('push-2');
    send(w.sequenceHeader(H264, 0));
    const t0 = Date.now();
    for (let i = 0; bus.tracks.length === 0 && Date.now() - t0 < 3000; i++) {
      send(w.unit({ ...unit(i, i === 0, [300]) }, H264));
      await new Promise((r) => setTimeout(r, 40));
    }
    await live;
    expect(bus.tracks.map((t) => t.params.codec)).toEqual(['H264']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
    await pipe.stop();
  });

  it('refuses damaged tags with FlvError, never anything else (fuzzed)', () => {
    const r = new FlvReader();
    r.readVideo(parse(new FlvWriter().sequenceHeader(H264, 0)!).body, 0);
    expect(() => r.readVideo(Buffer.from([0x17, 1, 0, 0, 0, 0, 0, 0, 99, 1]), 0)).toThrow(FlvError);
    expect(() => r.readVideo(Buffer.from([0x12, 1, 0, 0, 0]), 0)).toThrow(/codec 2/);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, video) => {
      try {
        if (video) r.readVideo(Buffer.from(bytes), 0);
        else r.readAudio(Buffer.from(bytes), 0);
      } catch (err) {
        if (!(err instanceof FlvError) && !(err instanceof RangeError)) throw err;
      }
    }), { numRuns: 500 });
  });
});
