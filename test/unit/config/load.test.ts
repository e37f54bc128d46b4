import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../config/load.js';
import { ROOT, tempDir } from '../../support/harness.js';

const dir = tempDir();
afterAll(() => dir.remove());

function problems(fn: () => unknown): Array<{ key: string; value: unknown; expected: string }> {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('accepts the example configuration, every section of it', () => {
    const c = loadConfig({ file: join(ROOT, 'config/gateway.example.json') });
    expect(c).toMatchObject({ demo: { enabled: false }, health: { concurrency: 100 }, metrics: { unitLevels: ['city', 'county', 'township'] }, auth: { lockoutFailures: 5 } });
  });

  it('fills every default', () => {
    const c = loadConfig();
    expect(c.http.port).toBe(8080);
    expect(c.store.driver).toBe('sqlite');
    expect(c.media.segmentSeconds).toBe(1);
    expect(c.demo.cameras).toBe(33000);
  });

  it('layers file, then SEG__ environment', () => {
    const file = join(dir.path, 'a.json');
    writeFileSync(file, JSON.stringify({ http: { port: 9000 }, media: { maxStreams: 50 } }));
    const c = loadConfig({ file, env: { SEG__HTTP__PORT: '9100', SEG__MEDIA__IDLE_LINGER_SECONDS: '3.5', SEG__DEMO__ENABLED: 'false', OTHER: 'x' } });
    expect(c.http.port).toBe(9100);
    expect(c.media.maxStreams).toBe(50);
    expect(c.media.idleLingerSeconds).toBe(3.5);
    expect(c.demo.enabled).toBe(false);
  });

  it('names each bad key with its value and what was expected', () => {
    const p = problems(() => loadConfig({ env: { SEG__HTTP__PORT: '70000', SEG__LOG__LEVEL: 'loud' }, overrides: { htpp: { port: 1 }, media: { maxStreams: 'many' } } }));
    const byKey = Object.fromEntries(p.map((x) => [x.key, x]));
    expect(byKey['http.port']).toMatchObject({ value: 70000, expected: expect.stringMatching(/65535/) });
    expect(byKey['log.level']!.expected).toMatch(/one of "fatal", "error"/);
    expect(byKey['htpp']!.expected).toMatch(/no such key/);
    expect(byKey['media.maxStreams']).toMatchObject({ value: 'many', expected: expect.stringMatching(/integer/) });
  });

  it('names the closest key, in the spelling of where the misspelt one came from', () => {
    const p = problems(() => loadConfig({ env: { SEG__MEDIA__HLSDIR: '/x', SEG__HEALTH__INTERVAL_SECOND: '5' }, overrides: { media: { maxStream: 3 }, log: { zzzzzzzz: 1 } } }));
    const byKey = Object.fromEntries(p.map((x) => [x.key, x.expected]));
    expect(byKey['media.hlsdir']).toBe('no such key (from SEG__MEDIA__HLSDIR): did you mean media.hlsDir (SEG__MEDIA__HLS_DIR)?');
    expect(byKey['health.intervalSecond']).toMatch(/did you mean health\.intervalSeconds \(SEG__HEALTH__INTERVAL_SECONDS\)\?$/);
    expect(byKey['media.maxStream']).toBe('no such key: did you mean media.maxStreams?');
    // Nothing near: no guess, but where to look.
    expect(byKey['log.zzzzzzzz']).toMatch(/^no such key: check its spelling against config\/schema\.ts$/);
    const err = (() => { try { loadConfig({ env: { SEG__MEDIA__HLSDIR: '/x' } }); } catch (e) { return e as Error; } })()!;
    expect(err.message).toContain('media.hlsdir: "/x" — no such key (from SEG__MEDIA__HLSDIR): did you mean media.hlsDir (SEG__MEDIA__HLS_DIR)?');
  });

  it('accepts an http(s) public URL and refuses anything else', () => {
    expect(loadConfig({ overrides: { http: { publicUrl: 'https://video.example.gov.cn' } } }).http.publicUrl).toBe('https://video.example.gov.cn');
    expect(problems(() => loadConfig({ env: { SEG__HTTP__PUBLIC_URL: 'ftp://x' } }))[0]).toMatchObject({ key: 'http.publicUrl', expected: expect.stringMatching(/uri/) });
  });

  it('says when the file is missing or not JSON', () => {
    expect(problems(() => loadConfig({ file: join(dir.path, 'none.json') }))[0]!.expected).toMatch(/readable JSON file \(ENOENT\)/);
    const bad = join(dir.path, 'bad.json');
    writeFileSync(bad, '{ "http": ');
    const err = (() => { try { loadConfig({ file: bad }); } catch (e) { return e as Error; } })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.message).toContain(bad);
    expect(err!.message).toMatch(/valid JSON/);
  });
});
