// The health monitor's rules over a small tree, with a scripted probe: bounded concurrency, a retry before a camera
// counts as offline, backoff of dead devices, live streams proving cameras online, counts at every level.
import { describe, expect, it } from 'vitest';
import { OrgTree, type OrgUnit } from '../../../gateway/src/access/org-tree.js';
import { HealthMonitor, type HealthMonitorOptions, type Transition } from '../../../gateway/src/health/health-monitor.js';
import { OnlineRates } from '../../../gateway/src/health/online-rates.js';

const units: OrgUnit[] = [
  { code: 'city', parent: null, name: 'City', level: 'city' },
  { code: 'c1', parent: 'city', name: 'County 1', level: 'county' },
  { code: 'c2', parent: 'city', name: 'County 2', level: 'county' },
  { code: 't1', parent: 'c1', name: 'Town 1', level: 'township' },
  { code: 'v1', parent: 't1', name: 'Village 1', level: 'village' },
];
const tree = new OrgTree(units);

describe('OnlineRates', () => {
  it('counts each camera in its unit and every unit above, and moves it between states', () => {
    const r = new OnlineRates(tree);
    r.add('v1', 'unknown');
    r.add('v1', 'online');
    r.add('c2', 'offline');
    expect(r.of('city')).toEqual({ total: 3, online: 1, offline: 1, unknown: 1, rate: 1 / 3, credentialsRejected: 0 });
    expect(r.of('t1')).toEqual({ total: 2, online: 1, offline: 0, unknown: 1, rate: 0.5, credentialsRejected: 0 });
    r.move('v1', 'unknown', 'online');
    expect(r.of('c1')).toMatchObject({ online: 2, rate: 1 });
    r.remove('c2', 'offline');
    expect(r.of('city')).toEqual({ total: 2, online: 2, offline: 0, unknown: 0, rate: 1, credentialsRejected: 0 });
    expect(r.of('c2')).toEqual({ total: 0, online: 0, offline: 0, unknown: 0, rate: 0, credentialsRejected: 0 });
    expect(() => r.add('nowhere', 'online')).toThrow(/unknown unit nowhere/);
  });
});

function monitor(probe: HealthMonitorOptions['probe'], extra: Partial<HealthMonitorOptions> = {}) {
  const recorded: Transition[] = [];
  const m = new HealthMonitor(tree, {
    intervalMs: 1000, concurrency: 4, retryDelayMs: 0, backoffMaxMs: 60_000, probe,
    recorder: { record: (t) => { recorded.push(...t); } }, ...extra,
  });
  return { m, recorded };
}

describe('HealthMonitor', () => {
  it('never has more probes in flight than its concurrency', async () => {
    let inFlight = 0;
    let peak = 0;
    const { m } = monitor(async () => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight--;
      return { latencyMs: 2 };
    });
    for (let i = 0; i < 50; i++) m.add(`cam${i}`, i % 2 ? 'v1' : 'c2');
    const report = await m.sweep();
    expect(peak).toBe(4);
    expect(report).toMatchObject({ due: 50, probes: 50, online: 50, offline: 0, transitions: 50 });
    expect(m.unit('city')).toMatchObject({ online: 50, rate: 1 });
  });

  it('retries a failed probe once before it declares the camera offline, and records why', async () => {
    const calls = new Map<string, number>();
    const { m, recorded } = monitor(async (id) => {
      const n = (calls.get(id) ?? 0) + 1;
      calls.set(id, n);
      if (id === 'dead' || (id === 'flaky' && n === 1)) throw new Error('connect failed: ECONNREFUSED');
      return { latencyMs: 1 };
    });
    for (const id of ['dead', 'flaky', 'fine']) m.add(id, 'v1');
    const report = await m.sweep();
    expect(calls.get('flaky')).toBe(2);
    expect(calls.get('dead')).toBe(2);
    expect(report).toMatchObject({ online: 2, offline: 1, probes: 5 });
    expect(m.camera('dead')).toMatchObject({ state: 'offline', reason: 'connect failed: ECONNREFUSED', failures: 1 });
    expect(recorded.find((t) => t.camera === 'dead')).toMatchObject({ state: 'offline', unit: 'v1', reason: 'connect failed: ECONNREFUSED' });
    expect(m.unit('t1')).toMatchObject({ online: 2, offline: 1 });
  });

  it('backs a dead device off with full jitter, up to the cap, and probes it again when due', async () => {
    let now = 1_000_000;
    let down = true;
    const probes: string[] = [];
    const { m } = monitor(async (id) => {
      probes.push(id);
      if (down) throw new Error('timeout');
      return { latencyMs: 1 };
    }, { now: () => now, random: () => 0.999, backoffMaxMs: 5000 });
    m.add('dead', 'c2');
    await m.sweep();
    expect(m.camera('dead')!.nextDue).toBe(now + 999);
    now += 1000;
    await m.sweep();
    expect(m.camera('dead')!.nextDue).toBe(now + 1998);
    now += 1000;
    const skipped = await m.sweep();
    expect(skipped).toMatchObject({ due: 0, backingOff: 1, probes: 0 });
    now += 10_000;
    await m.sweep();
    await m.sweep();
    now += 10_000;
    await m.sweep();
    expect(m.camera('dead')!.nextDue - now).toBeLessThanOrEqual(5000);
    down = false;
    now += 10_000;
    await m.sweep();
    expect(m.camera('dead')).toMatchObject({ state: 'online', failures: 0, nextDue: 0 });
  });

  it('takes a live stream as proof and sends no probe to that camera', async () => {
    const probed: string[] = [];
    const { m } = monitor(async (id) => { probed.push(id); return { latencyMs: 1 }; }, { isStreaming: (id) => id === 'watched' });
    m.add('watched', 'v1');
    m.add('other', 'v1');
    const report = await m.sweep();
    expect(probed).toEqual(['other']);
    expect(report).toMatchObject({ streaming: 1, online: 2 });
  });

  it('starts from the saved state, so a restart does not report every camera as new', async () => {
    const { m, recorded } = monitor(async () => ({ latencyMs: 1 }));
    m.add('a', 'v1', { state: 'online', since: 5 });
    m.add('b', 'v1', { state: 'offline', since: 6, reason: 'timeout' });
    expect(m.unit('city')).toMatchObject({ online: 1, offline: 1, unknown: 0 });
    await m.sweep();
    expect(recorded.map((t) => t.camera)).toEqual(['b']);
    expect(m.camera('a')!.since).toBe(5);
  });

  it('keeps sweeping when the recorder fails, and says so', async () => {
    const m = new HealthMonitor(tree, {
      intervalMs: 1000, concurrency: 2, retryDelayMs: 0, backoffMaxMs: 1000, probe: async () => ({ latencyMs: 1 }),
      recorder: { record: () => { throw new Error('disk full'); } },
    });
    const errors: unknown[] = [];
    m.on('error', (e) => errors.push(e));
    m.add('a', 'v1');
    expect((await m.sweep()).online).toBe(1);
    expect(String(errors[0])).toMatch(/disk full/);
  });

  it('stop() aborts the probes in flight and ends the schedule', async () => {
    let aborted = 0;
    const { m } = monitor((_id, signal) => new Promise((_r, reject) => signal.addEventListener('abort', () => { aborted++; reject(new Error('cancelled')); })));
    for (let i = 0; i < 10; i++) m.add(`c${i}`, 'v1');
    m.start();
    await new Promise((r) => setTimeout(r, 20));
    await m.stop();
    expect(aborted).toBe(4);
    expect(m.unit('city')).toMatchObject({ unknown: 10 });
    expect(m.lastSweep).toBeUndefined();
  });
});
