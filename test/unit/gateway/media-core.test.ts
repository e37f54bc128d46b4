// The media core's parts, each on its own: RTP order, depacketizers, decode timestamps, the frame bus, fMP4, LL-HLS.
import { describe, expect, it } from 'vitest';
import type { RtpPacket } from '../../../adapters/rtsp/rtp-packet.js';
import { parseSessionDescription } from '../../../adapters/rtsp/sdp.js';
import { packetizeNalu } from '../../../adapters/simulator/rtp.js';
import { nalUnits, type AccessUnit, type VideoParams } from '../../../gateway/src/media/core/access-unit.js';
import { AacDepacketizer, G711Depacketizer } from '../../../gateway/src/media/core/audio-depacketizer.js';
import { DtsDeriver } from '../../../gateway/src/media/core/dts.js';
import { fragment, initSegment } from '../../../gateway/src/media/core/fmp4.js';
import { FrameBus } from '../../../gateway/src/media/core/frame-bus.js';
import { HlsOutput } from '../../../gateway/src/media/core/ll-hls.js';
import { Reorderer, seqDiff, TimestampExtender } from '../../../gateway/src/media/core/rtp-order.js';
import { H264Depacketizer, H265Depacketizer, type Picture } from '../../../gateway/src/media/core/video-depacketizer.js';

// The simulator's main stream: High profile 1280x720.
const SDP = [
  'v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=cam', 't=0 0', 'm=video 0 RTP/AVP 96', 'a=rtpmap:96 H264/90000',
  'a=fmtp:96 packetization-mode=1;profile-level-id=64001f;sprop-parameter-sets=Z2QAH6y0AoAt2AiAAAADAIAAABkHjBlQ,aO88sA==',
  'a=control:trackID=0', '',
].join('\r\n');
const media = parseSessionDescription(SDP).media[0]!;

/**
 * frameNals makes one picture's NAL units: an IDR (I slice) or a P slice of size bytes, with a slice header that
 * starts at macroblock 0 and names picture parameter set 0, then its index.
 */
function frameNals(index: number, key: boolean, size = 3000): Buffer[] {
  const nal = Buffer.alloc(size, index & 0xff);
  nal[0] = key ? 0x65 : 0x41;
  // first_mb_in_slice 0, slice_type 7 (I) or 5 (P), pic_parameter_set_id 0, as exp-Golomb codes.
  nal[1] = key ? 0x88 : 0x9a;
  nal[2] = key ? 0x80 : 0x00;
  nal.writeUInt32BE(index, 3);
  return [nal];
}

/** packets turns pictures into RTP packets (single NAL units and FU-A), in order. */
function packets(frames: Array<{ nals: Buffer[]; ts: number }>, startSeq = 1000, mtu = 1200): RtpPacket[] {
  const out: RtpPacket[] = [];
  let seq = startSeq;
  for (const f of frames) {
    const payloads = f.nals.flatMap((n) => packetizeNalu(n, mtu));
    payloads.forEach((payload, i) => out.push({ marker: i === payloads.length - 1, payloadType: 96, sequence: seq++ & 0xffff, timestamp: f.ts >>> 0, ssrc: 1, payload }));
  }
  return out;
}

function collect(): { sink: { params: (p: VideoParams) => void; picture: (p: Picture) => void }; pictures: Picture[]; params: VideoParams[] } {
  const pictures: Picture[] = [];
  const params: VideoParams[] = [];
  return { sink: { params: (p) => params.push(p), picture: (p) => pictures.push(p) }, pictures, params };
}

const gop = (n: number, keyEvery = 10, base = 0) => Array.from({ length: n }, (_, i) => ({ nals: frameNals(i, i % keyEvery === 0), ts: base + i * 3600 }));

describe('H.264 depacketizer', () => {
  it('reassembles FU-A pictures with the SDP parameter sets, byte for byte', () => {
    const c = collect();
    const d = new H264Depacketizer(c.sink, media);
    expect(c.params[0]).toMatchObject({ codec: 'H264', width: 1280, height: 720, codecString: 'avc1.64001f' });
    const frames = gop(12);
    for (const p of packets(frames)) d.push(p, 0);
    expect(c.pictures).toHaveLength(12);
    c.pictures.forEach((pic, i) => {
      expect(pic.key).toBe(i % 10 === 0);
      expect(Buffer.concat(pic.nals).equals(Buffer.concat(frames[i]!.nals))).toBe(true);
    });
  });

  it('reads STAP-A aggregates, and takes in-band parameter sets', () => {
    const c = collect();
    const d = new H264Depacketizer(c.sink);
    const sps = Buffer.from('Z2QAH6y0AoAt2AiAAAADAIAAABkHjBlQ', 'base64');
    const pps = Buffer.from('aO88sA==', 'base64');
    const idr = frameNals(0, true, 100)[0]!;
    const stap = Buffer.concat([Buffer.from([0x18]), Buffer.from([0, sps.length]), sps, Buffer.from([0, pps.length]), pps, Buffer.from([0, idr.length]), idr]);
    d.push({ marker: true, payloadType: 96, sequence: 1, timestamp: 0, ssrc: 1, payload: stap }, 0);
    expect(c.params).toHaveLength(1);
    expect(c.params[0]!.sps.equals(sps)).toBe(true);
    expect(c.pictures).toHaveLength(1);
    expect(c.pictures[0]!.key).toBe(true);
    expect(c.pictures[0]!.nals).toHaveLength(1);
  });

  it('drops a picture that lost a packet and every picture after it until the next keyframe', () => {
    const c = collect();
    const d = new H264Depacketizer(c.sink, media);
    const all = packets(gop(25));
    const ordered: { packet: (p: RtpPacket) => void; lost: () => void } = { packet: (p) => d.push(p, 0), lost: () => d.lost() };
    const r = new Reorderer(ordered, { maxPackets: 1, maxDelayMs: 0 });
    // A fragment of picture 3 goes missing.
    const first = all.findIndex((p) => p.timestamp === 3 * 3600);
    all.splice(first + 1, 1);
    for (const p of all) r.push(p, 0);
    const got = c.pictures.map((p) => p.nals[0]!.readUInt32BE(3));
    // 0..2 before the loss, then nothing until keyframe 10, and on.
    expect(got).toEqual([0, 1, 2, ...Array.from({ length: 15 }, (_, i) => 10 + i)]);
    expect(d.stats.dropped).toBe(7);
  });

  it('counts garbage as malformed and recovers at the next keyframe', () => {
    const c = collect();
    const d = new H264Depacketizer(c.sink, media);
    const frames = gop(20);
    const all = packets(frames);
    // Picture 4's packets are replaced by garbage of the same timestamps: unknown types, lengths past the end.
    for (const p of all.filter((x) => x.timestamp === 4 * 3600)) p.payload = Buffer.from([0x18, 0xff, 0xff, 0x65]);
    for (const p of all) d.push(p, 0);
    const got = c.pictures.map((p) => p.nals[0]!.readUInt32BE(3));
    expect(got).toEqual([0, 1, 2, 3, ...Array.from({ length: 10 }, (_, i) => 10 + i)]);
    expect(d.stats.malformed).toBeGreaterThan(0);
  });
});

describe('H.265 depacketizer', () => {
  it('reassembles fragmentation units and aggregation packets', () => {
    const c = collect();
    const d = new H265Depacketizer(c.sink);
    // A VPS/SPS/PPS set of a 640x360 Main profile stream (as x265 writes it).
    const vps = Buffer.from('40010c01ffff016000000300900000030000030078959809', 'hex');
    const sps = Buffer.from('420101016000000300900000030000030078a005020171f2e5959a4932bc05a80808082000000300200000030321', 'hex');
    const pps = Buffer.from('4401c172b46240', 'hex');
    const ap = Buffer.concat([Buffer.from([0x60, 0x01]), ...[vps, sps, pps].flatMap((n) => [Buffer.from([n.length >> 8, n.length & 0xff]), n])]);
    d.push({ marker: false, payloadType: 96, sequence: 1, timestamp: 0, ssrc: 1, payload: ap }, 0);
    // An IDR_W_RADL slice (type 19) of 3000 bytes in three FUs.
    const idr = Buffer.alloc(3000, 7);
    idr[0] = 19 << 1;
    idr[1] = 1;
    // first_slice_segment_in_pic_flag, no_output_of_prior_pics_flag 0, slice_pic_parameter_set_id 0.
    idr[2] = 0xa0;
    const fus = [1, 1000, 2000].map((from, i, a) => Buffer.concat([Buffer.from([49 << 1, 1, (i === 0 ? 0x80 : 0) | (i === 2 ? 0x40 : 0) | 19]), idr.subarray(from === 1 ? 2 : from, a[i + 1] ?? 3000)]));
    fus.forEach((payload, i) => d.push({ marker: i === 2, payloadType: 96, sequence: 2 + i, timestamp: 0, ssrc: 1, payload }, 0));
    expect(c.params[0]).toMatchObject({ codec: 'H265', width: 640, height: 360 });
    expect(c.params[0]!.codecString).toMatch(/^hvc1\.1\.6\.L\d+/);
    expect(c.pictures).toHaveLength(1);
    expect(c.pictures[0]!.key).toBe(true);
    expect(c.pictures[0]!.nals[0]!.equals(idr)).toBe(true);
  });
});

describe('audio depacketizers', () => {
  it('reads RFC 3640 AAC-hbr with several frames in a packet', () => {
    const sdp = parseSessionDescription(['v=0', 's=a', 't=0 0', 'm=audio 0 RTP/AVP 97', 'a=rtpmap:97 mpeg4-generic/16000/1',
      'a=fmtp:97 streamtype=5;profile-level-id=15;mode=AAC-hbr;config=1408;sizelength=13;indexlength=3;indexdeltalength=3', ''].join('\r\n')).media[0]!;
    const frames: Array<{ rtp: number; data: Buffer }> = [];
    const d = new AacDepacketizer(sdp, { frame: (f) => frames.push(f) });
    expect(d.params).toMatchObject({ codec: 'AAC', sampleRate: 16000, channels: 1, codecString: 'mp4a.40.2' });
    const a = Buffer.alloc(100, 1);
    const b = Buffer.alloc(200, 2);
    const header = Buffer.alloc(6);
    header.writeUInt16BE(32, 0);
    header.writeUInt16BE(100 << 3, 2);
    header.writeUInt16BE(200 << 3, 4);
    d.push({ marker: true, payloadType: 97, sequence: 1, timestamp: 5000, ssrc: 1, payload: Buffer.concat([header, a, b]) }, 0);
    expect(frames.map((f) => [f.rtp, f.data.length])).toEqual([[5000, 100], [6024, 200]]);
    // A size past the end is malformed, not a crash.
    header.writeUInt16BE(900 << 3, 4);
    d.push({ marker: true, payloadType: 97, sequence: 2, timestamp: 7048, ssrc: 1, payload: Buffer.concat([header, a, b]) }, 0);
    expect(d.stats.malformed).toBe(1);
  });

  it('passes G.711 packets on as frames', () => {
    const sdp = parseSessionDescription(['v=0', 's=a', 't=0 0', 'm=audio 0 RTP/AVP 8', ''].join('\r\n')).media[0]!;
    const frames: Buffer[] = [];
    const d = new G711Depacketizer(sdp, { frame: (f) => frames.push(f.data) });
    expect(d.params).toMatchObject({ codec: 'PCMA', sampleRate: 8000 });
    d.push({ marker: false, payloadType: 8, sequence: 1, timestamp: 0, ssrc: 1, payload: Buffer.alloc(160, 0xd5) }, 0);
    expect(frames).toHaveLength(1);
  });
});

describe('RTP order and timestamps', () => {
  it('puts packets shuffled within the window back in order, and counts a gap given up as lost', () => {
    const out: number[] = [];
    let lost = 0;
    const r = new Reorderer({ packet: (p) => out.push(p.sequence), lost: (n) => { lost += n; } }, { maxPackets: 16, maxDelayMs: 100 });
    const seqs = [65530, 65532, 65531, 65534, 65533, 0, 65535, 2, 1, 3];
    for (const s of seqs) r.push({ marker: false, payloadType: 96, sequence: s, timestamp: 0, ssrc: 1, payload: Buffer.alloc(1) }, 0);
    expect(out).toEqual([65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3]);
    r.push({ marker: false, payloadType: 96, sequence: 6, timestamp: 0, ssrc: 1, payload: Buffer.alloc(1) }, 10);
    r.flush(200);
    expect(out.at(-1)).toBe(6);
    expect(lost).toBe(2);
    expect(seqDiff(65535, 1)).toBe(2);
  });

  it('extends 32-bit timestamps across the wrap', () => {
    const x = new TimestampExtender();
    expect(x.extend(0xfffff000)).toBe(0xfffff000);
    expect(x.extend(0x00000e00)).toBe(0xfffff000 + 0x1e00);
    expect(x.extend(0x00001000)).toBe(0x100001000);
  });

  it('derives decode timestamps that grow and never pass presentation, with B-frames', () => {
    // I0 P3 B1 B2 P6 B4 B5 in decode order, 3600 ticks a frame.
    const pts = [0, 3, 1, 2, 6, 4, 5, 9, 7, 8].map((f) => 90_000 + f * 3600);
    const d = new DtsDeriver(2, 3600);
    const dts = pts.map((p) => d.next(p));
    for (let i = 0; i < dts.length; i++) {
      expect(dts[i]).toBeLessThanOrEqual(pts[i]!);
      if (i > 0) expect(dts[i]).toBeGreaterThan(dts[i - 1]!);
    }
  });
});

const params = (width = 1280, height = 720): VideoParams => ({
  kind: 'video', codec: 'H264', sps: Buffer.from('Z2QAH6y0AoAt2AiAAAADAIAAABkHjBlQ', 'base64'), pps: Buffer.from('aO88sA==', 'base64'),
  width, height, codecString: 'avc1.64001f', reorder: 0,
});
const unit = (i: number, key: boolean, size = 1000, base = 0): AccessUnit => ({ track: 0, pts: base + i * 3600, dts: base + i * 3600, key, data: Buffer.alloc(size, i & 0xff), at: Date.now() });

describe('frame bus', () => {
  it('starts a new consumer at the cached keyframe, at once', () => {
    const bus = new FrameBus();
    bus.begin([params()]);
    for (let i = 0; i < 15; i++) bus.publish(unit(i, i % 10 === 0));
    const c = bus.subscribe();
    const first = c.read()!;
    expect(first.key).toBe(true);
    expect(first.pts).toBe(10 * 3600);
    expect(c.queued).toBe(4);
    expect(bus.lastKeyframe()?.unit.pts).toBe(10 * 3600);
  });

  it('bounds a slow consumer: it skips to the next keyframe, then is dropped; memory does not grow with it', () => {
    const bus = new FrameBus({ queueBytes: 100_000, maxSkips: 2 });
    bus.begin([params()]);
    const slow = bus.subscribe();
    let ended: string | undefined;
    slow.onEnd = (why) => { ended = why; };
    let maxQueued = 0;
    for (let i = 0; i < 1000 && !ended; i++) {
      bus.publish(unit(i, i % 25 === 0, 5000));
      maxQueued = Math.max(maxQueued, slow.queuedBytes);
    }
    expect(maxQueued).toBeLessThanOrEqual(100_000);
    expect(slow.skipped).toBeGreaterThan(0);
    expect(ended).toBe('slow');
    expect(bus.consumers).toBe(0);
  });

  it('a consumer that reads keeps up and gets every unit in order', () => {
    const bus = new FrameBus({ queueBytes: 100_000 });
    bus.begin([params()]);
    for (let i = 0; i < 3; i++) bus.publish(unit(i, i === 0));
    const c = bus.subscribe();
    const got: number[] = [];
    c.onReadable = () => { for (let u = c.read(); u; u = c.read()) got.push(u.pts / 3600); };
    for (let u = c.read(); u; u = c.read()) got.push(u.pts / 3600);
    for (let i = 3; i < 200; i++) bus.publish(unit(i, i % 25 === 0, 5000));
    expect(got).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });
});

/** boxes lists the top-level boxes of an MP4 buffer, checking each size fits. */
function boxes(b: Buffer): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (let at = 0; at < b.length;) {
    const size = b.readUInt32BE(at);
    expect(size).toBeGreaterThanOrEqual(8);
    expect(at + size).toBeLessThanOrEqual(b.length);
    out.push([b.toString('latin1', at + 4, at + 8), size]);
    at += size;
  }
  return out;
}

describe('fMP4', () => {
  it('writes an init segment and fragments whose boxes add up', () => {
    const init = initSegment([{ id: 1, timescale: 90_000, params: params() }]);
    expect(boxes(init).map(([t]) => t)).toEqual(['ftyp', 'moov']);
    const f = fragment(1, [{ id: 1, baseDts: 0, samples: [{ duration: 3600, cto: 0, key: true, data: Buffer.alloc(500) }, { duration: 3600, cto: 0, key: false, data: Buffer.alloc(300) }] }]);
    const whole = Buffer.concat(f.chunks);
    expect(whole.length).toBe(f.bytes);
    expect(boxes(whole)).toEqual([['moof', f.bytes - 808], ['mdat', 808]]);
  });
});

describe('LL-HLS output', () => {
  const opts = { partTargetMs: 300, segmentSeconds: 1, windowSegments: 4, maxBytes: 64 * 1024 * 1024 };

  it('cuts parts within the target and segments at keyframes, and answers a blocking reload', async () => {
    const bus = new FrameBus();
    const hls = new HlsOutput(bus, opts);
    bus.begin([params()]);
    for (let i = 0; i < 50; i++) bus.publish(unit(i, i % 25 === 0));
    const text = hls.playlist(true);
    expect(text).toMatch(/#EXT-X-PART-INF:PART-TARGET=0\.300/);
    expect(text).toMatch(/CAN-BLOCK-RELOAD=YES/);
    const parts = [...text.matchAll(/#EXT-X-PART:DURATION=([\d.]+)/g)].map((m) => Number(m[1]));
    expect(parts.length).toBeGreaterThan(4);
    for (const d of parts) expect(d).toBeLessThanOrEqual(0.3);
    // A run's first segment is its first part alone (a player starts at once); the next one goes on to the keyframe.
    expect(text).toMatch(/#EXTINF:0\.28000,\nseg-1\.m4s/);
    expect(text).toMatch(/#EXT-X-PART:DURATION=0\.28000,URI="part-2-0\.m4s"\n/);
    expect(text).toMatch(/#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part-2-\d+\.m4s"/);
    expect(hls.playlist(false)).not.toMatch(/EXT-X-PART/);
    // A request for the next part waits for it, and is answered as soon as it is made.
    const hint = /part-(\d+)-(\d+)\.m4s"\n$/.exec(text)!;
    const waiting = hls.waitPart(Number(hint[1]), Number(hint[2]), 5000);
    for (let i = 50; i < 60; i++) bus.publish(unit(i, i % 25 === 0));
    expect(await waiting).toBe(true);
    expect(hls.part(Number(hint[1]), Number(hint[2]))).toBeDefined();
    // The second segment ended at the first keyframe at least a segment's length after it began (frame 50).
    const later = hls.playlist(true);
    expect(later).toMatch(/#EXTINF:1\.72000,\nseg-2\.m4s/);
    expect(later).toMatch(/#EXT-X-PART:DURATION=[\d.]+,URI="part-3-0\.m4s",INDEPENDENT=YES/);
    expect(await hls.waitPart(hls.lastMsn + 50, 0, 100)).toBe(false);
    hls.close();
  });

  it('goes on across an upstream restart with a discontinuity, a continuous sequence and a new timeline', () => {
    const bus = new FrameBus();
    const hls = new HlsOutput(bus, opts);
    bus.begin([params()]);
    for (let i = 0; i < 60; i++) bus.publish(unit(i, i % 25 === 0));
    const before = hls.lastMsn;
    // The camera rebooted: its clock starts again near zero, and its picture is smaller.
    bus.begin([params(640, 360)]);
    for (let i = 0; i < 60; i++) bus.publish(unit(i, i % 25 === 0, 1000, 5));
    const text = hls.playlist(false);
    expect(text).toMatch(/#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init-2\.mp4"/);
    const msns = [...text.matchAll(/^seg-(\d+)\.m4s$/gm)].map((m) => Number(m[1]));
    expect(msns).toEqual(Array.from({ length: msns.length }, (_, i) => msns[0]! + i));
    expect(msns.at(-1)).toBeGreaterThan(before);
    expect(hls.init(2)).toBeDefined();
    hls.close();
  });

  it('keeps its window bounded in segments and bytes', () => {
    const bus = new FrameBus();
    const hls = new HlsOutput(bus, { ...opts, maxBytes: 2_000_000 });
    bus.begin([params()]);
    for (let i = 0; i < 2000; i++) bus.publish(unit(i, i % 25 === 0, 20_000));
    expect(hls.bytes).toBeLessThanOrEqual(2_000_000 + 25 * 20_100);
    expect([...hls.playlist(false).matchAll(/^seg-/gm)].length).toBeLessThanOrEqual(4);
    // Every unit's data is what the fragment carries (nothing copied or changed).
    const seg = hls.segment(hls.lastMsn - 1) as { chunks: Buffer[] };
    const data = Buffer.concat(seg.chunks);
    expect(data.includes(Buffer.alloc(20_000, 1960 & 0xff))).toBe(true);
    expect([...nalUnits(Buffer.alloc(0))]).toEqual([]);
    hls.close();
  });
});
