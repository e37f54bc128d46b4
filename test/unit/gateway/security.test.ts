import { describe, expect, it } from 'vitest';
import { MediaTokens } from '../../../gateway/src/auth/media-token.js';
import { hashPassword, verifyPassword } from '../../../gateway/src/auth/password-hash.js';
import { CredentialCipher } from '../../../gateway/src/secrets/credential-cipher.js';
import { MasterKey } from '../../../gateway/src/secrets/master-key.js';
import { redactQuery } from '../../../gateway/src/http/server.js';
import { rewritePlaylist } from '../../../gateway/src/http/routes/media-routes.js';
import { redactUrl, withCredentials } from '../../../adapters/core/types.js';

const key = new MasterKey(Buffer.alloc(32, 7));

describe('MediaTokens', () => {
  const tokens = new MediaTokens(key.derive('media-token'), 60_000);
  const grant = { userId: 4, session: 'abc', camera: 'cam1', profile: 'main', action: 'live' as const };

  it('verifies a fresh token for its own stream only', () => {
    const { token, expires } = tokens.sign(grant, 1000);
    expect(expires).toBe(61_000);
    expect(tokens.verify(token, 'cam1', 'main', 2000)).toMatchObject({ userId: 4, session: 'abc' });
    expect(() => tokens.verify(token, 'cam2', 'main', 2000)).toThrow(/another stream/);
    expect(() => tokens.verify(token, 'cam1', 'sub', 2000)).toThrow(/another stream/);
    expect(() => tokens.verify(token, 'cam1', 'main', 61_000)).toThrow(/expired/);
  });

  it('rejects altered, foreign and malformed tokens', () => {
    const { token } = tokens.sign(grant);
    const [body, mac] = token.split('.') as [string, string];
    const forgedBody = Buffer.from(JSON.stringify([1, 'abc', 'cam1', 'main', 'live', Date.now() + 1e9])).toString('base64url');
    expect(() => tokens.verify(`${forgedBody}.${mac}`, 'cam1', 'main')).toThrow(/signature/);
    const other = new MediaTokens(new MasterKey(Buffer.alloc(32, 8)).derive('media-token'), 60_000);
    expect(() => other.verify(token, 'cam1', 'main')).toThrow(/signature/);
    expect(() => tokens.verify(`${body}`, 'cam1', 'main')).toThrow(/malformed/);
    expect(() => tokens.verify(undefined, 'cam1', 'main')).toThrow(/missing/);
  });
});

describe('passwords', () => {
  it('hashes with scrypt and salt, and verifies', async () => {
    const a = await hashPassword('Demo#2026');
    const b = await hashPassword('Demo#2026');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('Demo#2026', a)).toBe(true);
    expect(await verifyPassword('demo#2026', a)).toBe(false);
    expect(await verifyPassword('x', 'md5$whatever')).toBe(false);
  });
});

describe('CredentialCipher', () => {
  const cipher = new CredentialCipher(key.derive('camera-credentials'));

  it('round-trips and binds the secret to its camera', () => {
    const blob = cipher.seal('cam1', 'p@ss 密码');
    expect(blob.includes(Buffer.from('p@ss'))).toBe(false);
    expect(cipher.open('cam1', blob)).toBe('p@ss 密码');
    expect(() => cipher.open('cam2', blob)).toThrow(/cannot be decrypted/);
    const tampered = Buffer.from(blob);
    tampered[tampered.length - 1]! ^= 1;
    expect(() => cipher.open('cam1', tampered)).toThrow(/cannot be decrypted/);
  });

  it('derives different keys per purpose', () => {
    expect(key.derive('camera-credentials').equals(key.derive('media-token'))).toBe(false);
  });
});

describe('secrets stay out of URLs and logs', () => {
  it('redacts tokens in logged URLs', () => {
    expect(redactQuery('/media/hls/c/main/index.m3u8?t=abc.def&x=1')).toBe('/media/hls/c/main/index.m3u8?t=***&x=1');
    expect(redactQuery('/x?a=1&token=zz')).toBe('/x?a=1&token=***');
  });

  it('embeds and redacts camera credentials', () => {
    const url = withCredentials('rtsp://10.0.0.5:554/cam/1/main', { username: 'admin', password: 'p@ss:/x' });
    expect(new URL(url).password).toBe(encodeURIComponent('p@ss:/x'));
    expect(redactUrl(url)).toBe('rtsp://admin:***@10.0.0.5:554/cam/1/main');
  });

  it('puts the token on every segment of a playlist and nowhere else', () => {
    const text = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nseg1.ts\n#EXTINF:2.0,\nseg2.ts\n';
    expect(rewritePlaylist(text, 'a/b')).toBe('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nseg1.ts?t=a%2Fb\n#EXTINF:2.0,\nseg2.ts?t=a%2Fb\n');
  });
});
