// A browser's sending offer (Debian's Chromium 156, captured: test/fixtures/sdp/chromium-send-offer.sdp) read into
// mediasoup producer parameters for a room, and the faults of an offer each refused with what is wrong.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type * as ms from 'mediasoup/node/lib/types.js';
import { parsePublish, writePublishAnswer } from '../../../gateway/src/media/webrtc/publish-sdp.js';
import { SdpError } from '../../../gateway/src/media/webrtc/whep-sdp.js';
import { ROOM_CODECS } from '../../../gateway/src/media/webrtc/room-media.js';

const OFFER = readFileSync(new URL('../../fixtures/sdp/chromium-send-offer.sdp', import.meta.url), 'utf8');
const SIMULCAST = readFileSync(new URL('../../fixtures/sdp/chromium-simulcast-offer.sdp', import.meta.url), 'utf8');
const ROUTER: ms.RtpCapabilities = { codecs: ROOM_CODECS, headerExtensions: [] };

describe('a sending offer', () => {
  it('gives each section one codec the room takes, its RTX, the SSRCs and the extensions mediasoup reads', () => {
    const p = parsePublish(OFFER, ROUTER);
    expect(p.sections.map((s) => s.kind)).toEqual(['audio', 'video']);
    const [audio, video] = p.sections;
    expect(audio!.rtpParameters.codecs).toEqual([expect.objectContaining({ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 })]);
    expect(video!.rtpParameters.codecs.map((c) => c.mimeType)).toEqual(['video/VP8', 'video/rtx']);
    expect(video!.rtpParameters.codecs[1]!.parameters).toEqual({ apt: 96 });
    const fid = /a=ssrc-group:FID (\d+) (\d+)/.exec(OFFER)!;
    expect(video!.rtpParameters.encodings).toEqual([{ ssrc: Number(fid[1]), rtx: { ssrc: Number(fid[2]) } }]);
    expect(video!.rtpParameters.headerExtensions!.map((e) => e.uri)).toContain('urn:ietf:params:rtp-hdrext:sdes:mid');
    expect(video!.rtpParameters.rtcp!.cname).toMatch(/\S+/);
    expect(p.dtlsParameters.role).toBe('client');
    // The answer receives both sections, with the chosen codecs only.
    const answer = writePublishAnswer(p, {
      iceParameters: { usernameFragment: 'u', password: 'p', iceLite: true },
      iceCandidates: [{ foundation: 'f', priority: 1, ip: '127.0.0.1', protocol: 'udp', port: 40000, type: 'host', tcpType: undefined }],
      dtlsParameters: { role: 'auto', fingerprints: [{ algorithm: 'sha-256', value: 'AA:BB:CC:DD' }] },
    }, p.sections.map((s) => s.mid));
    expect(answer.match(/a=recvonly/g)).toHaveLength(2);
    expect(answer).toMatch(/m=video 40000 UDP\/TLS\/RTP\/SAVPF 96 97\r\n/);
    expect(answer).toContain('a=setup:passive');
  });

  it('takes H.264 when the browser offers no VP8, in the profile the room takes (Constrained Baseline, not Baseline)', () => {
    const h264Only = OFFER.replace(/a=rtpmap:96 VP8\/90000\r?\n/, '');
    const video = parsePublish(h264Only, ROUTER).sections[1]!;
    const codec = video.rtpParameters.codecs[0]!;
    expect(codec.mimeType).toBe('video/H264');
    expect(String(codec.parameters!['profile-level-id']).slice(0, 4)).toBe('42e0');
    expect(Number(codec.parameters!['packetization-mode'])).toBe(1);
    // Its RTX is the one that names it.
    expect(video.rtpParameters.codecs[1]).toMatchObject({ mimeType: 'video/rtx', parameters: { apt: codec.payloadType } });
  });

  it.each([
    ['', /the offer is empty/],
    ['x'.repeat(70_000), /larger than/],
    ['hello', /not an SDP/],
    [OFFER.replace(/a=sendonly/g, 'a=recvonly'), /sends nothing/],
    [OFFER.replace(/a=rtpmap:111 opus\/48000\/2/, 'a=rtpmap:111 speex/48000/2'), /media section 1 \(m=audio\): none of its codecs is one the room takes \(audio\/opus\)/],
    [OFFER.replace(/a=ssrc[^\r\n]*\r?\n/g, ''), /names no a=ssrc/],
    [OFFER.replace(/a=fingerprint[^\r\n]*\r?\n/g, ''), /no a=fingerprint/],
    [OFFER.replace(/a=mid:0/, 'a=mid:' + 'x'.repeat(40)), /section 1 \(m=audio\) has no usable a=mid/],
  ])('refuses a faulty offer naming what is wrong (%#)', (offer, message) => {
    expect(() => parsePublish(offer, ROUTER)).toThrow(SdpError);
    expect(() => parsePublish(offer, ROUTER)).toThrow(message);
  });

  it('reads a simulcast camera (Chromium, three rids) into layers known by rid, and takes each layer in its answer', () => {
    const p = parsePublish(SIMULCAST, ROUTER);
    const video = p.sections.find((x) => x.kind === 'video')!;
    expect(video.layers).toEqual(['q', 'h', 'f']);
    expect(video.rtpParameters.encodings).toEqual([{ rid: 'q' }, { rid: 'h' }, { rid: 'f' }]);
    expect(video.rtpParameters.headerExtensions!.map((e) => e.uri)).toEqual(expect.arrayContaining(['urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id', 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id']));
    expect(p.sections.find((x) => x.kind === 'audio')!.layers).toEqual([]);
    const answer = writePublishAnswer(p, {
      iceParameters: { usernameFragment: 'u', password: 'p', iceLite: true },
      iceCandidates: [{ foundation: 'f', priority: 1, ip: '127.0.0.1', protocol: 'udp', port: 40000, type: 'host', tcpType: undefined }],
      dtlsParameters: { role: 'auto', fingerprints: [{ algorithm: 'sha-256', value: 'AA:BB:CC:DD' }] },
    }, p.sections.map((s) => s.mid));
    for (const line of ['a=rid:q recv', 'a=rid:h recv', 'a=rid:f recv', 'a=simulcast:recv q;h;f']) expect(answer).toContain(`${line}\r\n`);
  });

  it('refuses a simulcast naming a layer it does not declare, too many layers, or a layer twice', () => {
    const cases: Array<[string, RegExp]> = [
      [SIMULCAST.replace('a=simulcast:send q;h;f', 'a=simulcast:send q;h;x'), /layer "x" has no a=rid:x send/],
      [SIMULCAST.replace('a=rid:f send', 'a=rid:f send\r\na=rid:g send').replace('a=simulcast:send q;h;f', 'a=simulcast:send q;h;f;g'), /4 simulcast layers, at most 3/],
      [SIMULCAST.replace('a=simulcast:send q;h;f', 'a=simulcast:send q;q'), /named twice/],
      [SIMULCAST.replace('a=simulcast:send q;h;f', 'a=simulcast:recv q;h;f'), /must say send/],
    ];
    for (const [offer, message] of cases) expect(() => parsePublish(offer, ROUTER)).toThrow(message);
    expect(() => parsePublish(cases[0]![0], ROUTER)).toThrow(SdpError);
  });
});
