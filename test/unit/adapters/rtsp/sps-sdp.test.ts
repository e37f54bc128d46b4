import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSps, unescapeRbsp } from '../../../../adapters/rtsp/h264-sps.js';
import { parseSdp, SdpError } from '../../../../adapters/rtsp/sdp.js';
import { digestResponse, parseAuthParams } from '../../../../adapters/core/digest.js';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/${name}`, import.meta.url), 'utf8');

describe('parseSdp over captured DESCRIBE answers', () => {
  it.each([
    ['simulator-main.sdp', '64001f'],
    ['simulator-sub.sdp', '4d401e'],
  ])('%s', (file, profileLevelId) => {
    const [video, ...rest] = parseSdp(fixture(file));
    expect(rest).toEqual([]);
    expect(video).toMatchObject({ kind: 'video', payloadType: 96, codec: 'H264', clockRate: 90000, control: 'trackID=0', framerate: 25 });
    expect(video!.fmtp['profile-level-id']).toBe(profileLevelId);
    expect(video!.fmtp['packetization-mode']).toBe('1');
  });

  it('reads static payload types and audio, and names a malformed line', () => {
    const media = parseSdp('v=0\r\nm=video 0 RTP/AVP 26\r\nm=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n');
    expect(media.map((m) => [m.kind, m.codec, m.clockRate])).toEqual([['video', 'JPEG', 90000], ['audio', 'PCMA', 8000]]);
    expect(() => parseSdp('<html>')).toThrow(SdpError);
    expect(() => parseSdp('v=0\nm=video zero')).toThrow(/line 2: malformed media line/);
  });
});

describe('parseSps', () => {
  it.each([
    ['simulator-main.sdp', { profile: 'High', level: 3.1, width: 1280, height: 720, fps: 25 }],
    ['simulator-sub.sdp', { profile: 'Main', level: 3, width: 640, height: 360, fps: 25 }],
  ])('reads size and frame rate from the SPS in %s (360 needs the crop)', (file, want) => {
    const sprop = parseSdp(fixture(file))[0]!.fmtp['sprop-parameter-sets']!.split(',')[0]!;
    expect(parseSps(Buffer.from(sprop, 'base64'))).toMatchObject(want);
  });

  it('removes emulation-prevention bytes', () => {
    expect([...unescapeRbsp(Uint8Array.from([0, 0, 3, 1, 0, 0, 3, 0, 3]))]).toEqual([0, 0, 1, 0, 0, 0, 3]);
  });

  it('refuses a truncated or foreign NAL unit instead of reading past it', () => {
    const sps = Buffer.from(parseSdp(fixture('simulator-main.sdp'))[0]!.fmtp['sprop-parameter-sets']!.split(',')[0]!, 'base64');
    expect(() => parseSps(sps.subarray(0, 6))).toThrow(RangeError);
    expect(() => parseSps(Buffer.from([0x68, 0xee, 0x3c, 0x80]))).toThrow(/not an SPS/);
    expect(() => parseSps(Buffer.from([0x67, 0x64, 0, 0x1f, 0, 0, 0, 0, 0]))).toThrow(/exp-Golomb|ends early/);
  });
});

describe('Digest client', () => {
  it('answers a qop=auth challenge with nc and cnonce (RFC 2617 example)', () => {
    const header = digestResponse({ username: 'Mufasa', password: 'Circle Of Life', realm: 'testrealm@host.com', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', method: 'GET', uri: '/dir/index.html', qop: 'auth,auth-int', cnonce: '0a4f113b', opaque: '5ccc069c403ebaf9f0171e9517f40e41' });
    const p = parseAuthParams(header.slice(7));
    expect(p).toMatchObject({ response: '6629fae49393a05397450978507c4ef1', qop: 'auth', nc: '00000001', cnonce: '0a4f113b', opaque: '5ccc069c403ebaf9f0171e9517f40e41' });
  });
});
