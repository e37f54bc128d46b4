import { describe, expect, it } from 'vitest';
import { digestResponse, parseAuthParams } from '../../../../adapters/core/digest.js';
import { DigestAuth } from '../../../../adapters/simulator/digest.js';
import { formatResponse, RtspMessageReader, RtspParseError } from '../../../../adapters/rtsp/rtsp-request.js';
import { parseTarget } from '../../../../adapters/simulator/rtsp-server.js';
import { CameraFarm } from '../../../../adapters/simulator/camera-farm.js';
import type { Clip } from '../../../../adapters/simulator/clip.js';

describe('RtspMessageReader', () => {
  it('parses pipelined requests split anywhere, with a body, skipping interleaved frames', () => {
    const reader = new RtspMessageReader();
    const wire = Buffer.concat([
      Buffer.from('OPTIONS rtsp://h/cam/1/main RTSP/1.0\r\nCSeq: 1\r\n\r\n'),
      Buffer.from([0x24, 1, 0, 3, 9, 9, 9]),
      Buffer.from('SET_PARAMETER rtsp://h/cam/1/main RTSP/1.0\r\nCSeq: 2\r\nContent-Length: 5\r\n\r\nhello'),
    ]);
    const out = [];
    for (let i = 0; i < wire.length; i += 7) out.push(...reader.push(wire.subarray(i, i + 7)));
    expect(out.map((r) => [r.method, r.headers.cseq, r.body.toString()])).toEqual([['OPTIONS', '1', ''], ['SET_PARAMETER', '2', 'hello']]);
  });

  it.each([
    ['a garbage request line', 'HELLO\r\n\r\n', /malformed request line/],
    ['a header without colon', 'OPTIONS * RTSP/1.0\r\nCSeq 1\r\n\r\n', /malformed header line/],
    ['a negative Content-Length', 'OPTIONS * RTSP/1.0\r\nContent-Length: -5\r\n\r\n', /bad Content-Length/],
    ['a huge body', 'OPTIONS * RTSP/1.0\r\nContent-Length: 999999\r\n\r\n', /exceeds/],
  ])('rejects %s with a message that names it', (_name, text, message) => {
    expect(() => new RtspMessageReader().push(Buffer.from(text))).toThrow(message);
  });

  it('rejects a head that never ends instead of buffering it', () => {
    const reader = new RtspMessageReader();
    reader.push(Buffer.from('OPTIONS * RTSP/1.0\r\n'));
    expect(() => reader.push(Buffer.alloc(9000, 0x41))).toThrow(RtspParseError);
  });

  it('formats a response with CSeq and Content-Length', () => {
    const text = formatResponse(200, '3', { Public: 'OPTIONS' }, 'v=0\r\n').toString();
    expect(text).toMatch(/^RTSP\/1\.0 200 OK\r\nCSeq: 3\r\n/);
    expect(text).toContain('Content-Length: 5\r\n\r\nv=0\r\n');
  });
});

describe('Digest authentication', () => {
  const auth = new DigestAuth('Test');
  const nonce = () => parseAuthParams(auth.challenge().slice(7)).nonce!;

  it('accepts the response a client computes and rejects a wrong password, user or method', () => {
    const n = nonce();
    const header = digestResponse({ username: 'admin', password: 'pw', realm: 'Test', nonce: n, method: 'DESCRIBE', uri: 'rtsp://h/cam/1/main' });
    expect(auth.verify(header, 'DESCRIBE', 'admin', 'pw')).toBe(true);
    expect(auth.verify(header, 'DESCRIBE', 'admin', 'other')).toBe(false);
    expect(auth.verify(header, 'DESCRIBE', 'root', 'pw')).toBe(false);
    expect(auth.verify(header, 'SETUP', 'admin', 'pw')).toBe(false);
  });

  it('rejects a nonce it did not issue, and Basic credentials', () => {
    const forged = digestResponse({ username: 'admin', password: 'pw', realm: 'Test', nonce: 'ab'.repeat(24), method: 'DESCRIBE', uri: 'x' });
    expect(auth.verify(forged, 'DESCRIBE', 'admin', 'pw')).toBe(false);
    expect(auth.verify(`Basic ${Buffer.from('admin:pw').toString('base64')}`, 'DESCRIBE', 'admin', 'pw')).toBe(false);
    expect(auth.verify(undefined, 'DESCRIBE', 'admin', 'pw')).toBe(false);
  });

  it('rejects an expired nonce', async () => {
    const short = new DigestAuth('Test', { nonceTtlMs: 1 });
    const n = parseAuthParams(short.challenge().slice(7)).nonce!;
    await new Promise((r) => setTimeout(r, 5));
    const header = digestResponse({ username: 'a', password: 'p', realm: 'Test', nonce: n, method: 'PLAY', uri: 'x' });
    expect(short.verify(header, 'PLAY', 'a', 'p')).toBe(false);
  });
});

describe('camera paths and fault knobs', () => {
  it.each([
    ['rtsp://h:1/cam/3601/main', { camera: '3601', profile: 'main' }],
    ['rtsp://h:1/cam/3601/sub/trackID=0', { camera: '3601', profile: 'sub' }],
    ['rtsp://h:1/cam/3601/hd', undefined],
    ['rtsp://h:1/cam/../../etc/main', undefined],
    ['not a url', undefined],
  ])('%s', (uri, want) => {
    const got = parseTarget(uri);
    expect(got && { camera: got.camera, profile: got.profile }).toEqual(want);
  });

  it('validates knobs and says which one is wrong', () => {
    const farm = new CameraFarm({ username: 'a', password: 'p', clips: {} as Record<'main' | 'sub', Clip> });
    expect(farm.setFaults('c1', { offline: true, delayMs: 10 })).toEqual({ offline: true, delayMs: 10 });
    expect(() => farm.setFaults('c1', { offline: 'yes' })).toThrow(/offline must be a boolean/);
    expect(() => farm.setFaults('c1', { stallAfterMs: -1 })).toThrow(/stallAfterMs must be a number/);
    expect(() => farm.setFaults('c1', { melt: true })).toThrow(/unknown fault "melt"/);
    expect(() => farm.setFaults('../x', {})).toThrow(/invalid camera id/);
    expect(farm.setFaults('c1', { offline: null })).toEqual({ delayMs: 10 });
    farm.setFaults('c1', { password: 'other' });
    expect(farm.passwordOf('c1')).toBe('other');
    expect(farm.passwordOf('c2')).toBe('p');
  });
});
