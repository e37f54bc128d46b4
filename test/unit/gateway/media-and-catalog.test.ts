import { describe, expect, it } from 'vitest';
import { fullJitterDelay } from '../../../gateway/src/media/backoff.js';
import { classifyFfmpegError } from '../../../gateway/src/media/pipeline.js';
import { withRun } from '../../../gateway/src/media/hls-pipeline.js';
import { demoAccounts, generateDemoCatalog } from '../../../gateway/src/catalog/demo-catalog.js';
import { levelOfCode } from '../../../gateway/src/catalog/catalog.js';
import { OrgTree } from '../../../gateway/src/access/org-tree.js';

describe('fullJitterDelay', () => {
  it('stays within [0, min(max, base·2^n)) and spreads out', () => {
    for (let n = 0; n < 12; n++) {
      const cap = Math.min(60_000, 1000 * 2 ** n);
      const draws = Array.from({ length: 200 }, () => fullJitterDelay(n, { baseMs: 1000, maxMs: 60_000 }));
      expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...draws)).toBeLessThan(cap);
      expect(new Set(draws).size).toBeGreaterThan(100);
    }
    expect(fullJitterDelay(3, { baseMs: 1000, maxMs: 60_000, random: () => 0.5 })).toBe(4000);
    expect(fullJitterDelay(1000, { baseMs: 1000, maxMs: 60_000, random: () => 0.999 })).toBe(59_940);
  });
});

describe('classifyFfmpegError', () => {
  it.each([
    [['[h264 @ 0x1] Could not find codec parameters for stream 0'], 'unsupported', /codec parameters/],
    [['[hls @ 0x1] Application provided invalid, non monotonically increasing dts to muxer'], 'unsupported', /timestamps go back/],
    [['[udp @ 0x1] bind failed: Address already in use'], 'failed', /local port/],
    [['pipe:0: Invalid data found when processing input'], 'unsupported', /cannot read the video/],
    [['rtsp://admin:Secret-1@10.0.0.5/cam: something odd'], 'failed', /^the remuxer stopped \(ffmpeg exited with code 1\)$/],
  ])('%j → %s, in fixed words', (lines, kind, message) => {
    const exit = classifyFfmpegError(lines, 1);
    expect(exit.kind).toBe(kind);
    expect(exit.message).toMatch(message);
    // Whatever ffmpeg said stays out of the message: it could name a camera or its password.
    expect(exit.message).not.toMatch(/rtsp:|Secret-1|0x1|10\.0\.0\.5/);
  });
});

describe('demo catalog', () => {
  const source = { host: '127.0.0.1', rtspPort: 8554, onvifPort: 8556, username: 'admin', password: 'pw' };
  const demo = generateDemoCatalog(2026, 33_000, source);

  it('is a believable city: 1 city, 6 counties, 95 townships, ~1,600 villages, 33,000 cameras', () => {
    const count = (level: string) => demo.units.filter((u) => u.level === level).length;
    expect([count('city'), count('county'), count('township')]).toEqual([1, 6, 95]);
    expect(count('village')).toBeGreaterThan(1450);
    expect(count('village')).toBeLessThan(1750);
    expect(demo.cameras).toHaveLength(33_000);
    expect(new Set(demo.cameras.map((c) => c.id)).size).toBe(33_000);
    expect(new OrgTree(demo.units).size).toBe(demo.units.length);
  });

  it('codes units as 12-digit region codes whose level matches the code', () => {
    for (const u of demo.units) {
      expect(u.code).toMatch(/^\d{12}$/);
      expect(levelOfCode(u.code)).toBe(u.level);
      if (u.parent) expect(u.code.startsWith(u.parent.replace(/0+$/, '').slice(0, u.level === 'village' ? 9 : u.level === 'township' ? 6 : 4))).toBe(true);
    }
    expect(demo.cameras.every((c) => /^\d{20}$/.test(c.id) && c.id.slice(10, 13) === '132')).toBe(true);
  });

  it('is the same for the same seed and scales to any size', () => {
    expect(generateDemoCatalog(2026, 500, source).cameras.map((c) => c.id)).toEqual(generateDemoCatalog(2026, 500, source).cameras.map((c) => c.id));
    expect(generateDemoCatalog(1, 17, source).cameras).toHaveLength(17);
    const accounts = demoAccounts(demo.units);
    expect(accounts.map((a) => a.username)).toEqual(['city-admin', 'county-admin', 'township-operator', 'village-clerk', 'village-clerk-2']);
    expect(accounts[3]!.unit).not.toBe(accounts[4]!.unit);
  });
});

describe('StartGate', () => {
  it('lets starts through in order at the set pace', async () => {
    const { StartGate } = await import('../../../gateway/src/media/start-gate.js');
    const gate = new StartGate(50);
    const t0 = Date.now();
    const passed: Array<[number, number]> = [];
    await Promise.all(Array.from({ length: 6 }, (_, i) => gate.pass().then(() => passed.push([i, Date.now() - t0]))));
    expect(passed.map((p) => p[0])).toEqual([0, 1, 2, 3, 4, 5]);
    expect(passed[0]![1]).toBeLessThan(15);
    expect(passed[5]![1]).toBeGreaterThanOrEqual(95); // 5 intervals of 20 ms
    expect(() => new StartGate(0)).toThrow(/must be > 0/);
  });
});

describe('defaultHlsDir', () => {
  it('keeps live segments in memory, one folder per store', async () => {
    const { defaultHlsDir } = await import('../../../gateway/src/app.js');
    const a = defaultHlsDir('var/gateway.db');
    expect(a).toMatch(/^\/dev\/shm\/sharp-eyes-[0-9a-f]{12}\/hls$/);
    expect(defaultHlsDir('/srv/other.db')).not.toBe(a);
    expect(defaultHlsDir('var/gateway.db')).toBe(a);
  });
});

describe('withRun', () => {
  const ffmpegPlaylist = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1764579600\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-PROGRAM-DATE-TIME:2026-12-01T09:00:00.000+0000\n#EXTINF:1.000000,\nseg1764579600.ts\n';
  it('puts the run\'s discontinuity sequence after the media sequence, before every segment', () => {
    const out = withRun(ffmpegPlaylist, 1764579600123);
    expect(out.split('\n').slice(3, 5)).toEqual(['#EXT-X-MEDIA-SEQUENCE:1764579600', '#EXT-X-DISCONTINUITY-SEQUENCE:1764579600123']);
    expect(out.replace('#EXT-X-DISCONTINUITY-SEQUENCE:1764579600123\n', '')).toBe(ffmpegPlaylist);
  });
  it('places it before the first segment when there is no media sequence, and leaves a marked playlist alone', () => {
    const bare = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1.0,\nseg1.ts\n';
    const out = withRun(bare, 7);
    expect(out).toBe('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-DISCONTINUITY-SEQUENCE:7\n#EXTINF:1.0,\nseg1.ts\n');
    expect(withRun(out, 9)).toBe(out);
  });
});
