// A gateway process killed (SIGKILL: no shutdown, nothing flushed on the way out) while two display pages show a wall,
// and started again on the same store and port: the displays come back to the same state by themselves, playing.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, launchChromium, login, ROOT, startGateway, tempDir, waitFor, type TestGateway } from '../support/harness.js';
import type { ScreenStats } from '../../console/src/display/display-screen.js';

let gw: TestGateway;
let browser: Browser;
let child: ChildProcess | undefined;
const dir = tempDir('seg-kill-');
let url = '';
let configFile = '';

/** serve starts the gateway as its own process, as `npm start` does, and waits until it answers. */
async function serve(): Promise<ChildProcess> {
  const p = spawn(process.execPath, ['--import', 'tsx', 'gateway/src/main.ts', 'serve', '--config', configFile], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  p.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  await waitFor('the gateway process answering', async () => {
    if (p.exitCode !== null) throw new Error(`the gateway exited ${p.exitCode}: ${stderr}`);
    return fetch(`${url}/healthz`).then((r) => r.ok, () => false);
  }, 60_000, 200);
  return p;
}

beforeAll(async () => {
  // The store is made and seeded by an in-process gateway; its simulator keeps serving the cameras throughout.
  gw = await startGateway({ cameras: 400 });
  const cookie = await login(gw, 'county-admin');
  const unit = gw.gateway.catalog.userWithHash('township-operator')!.user.unit;
  const api = (method: 'POST', path: string, payload: unknown) => gw.gateway.http.inject({ method, url: path, headers: { cookie }, payload: payload as Record<string, unknown> });
  const wall = (await api('POST', '/api/walls', { name: '大屏', unit, rows: 1, cols: 2, split: 4 })).json<{ id: number; version: number }>();
  const links: string[] = [];
  for (const screen of [0, 1]) links.push((await api('POST', `/api/walls/${wall.id}/displays`, { screen, name: `屏${screen}` })).json<{ url: string }>().url);
  const cams = gw.gateway.access.camerasUnder(unit);
  let version = wall.version;
  for (const [screen, tile, camera] of [[0, 0, cams[0]], [0, 3, cams[1]], [1, 1, cams[2]]] as const) {
    version = (await api('POST', `/api/walls/${wall.id}/commands`, { version, command: { op: 'assign', target: { screen, tile }, camera } })).json<{ version: number }>().version;
  }
  const config = gw.gateway.config;
  await gw.gateway.close();
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  configFile = join(dir.path, 'gateway.json');
  writeFileSync(configFile, JSON.stringify({ ...config, http: { ...config.http, port, host: '127.0.0.1', publicUrl: undefined }, demo: { ...config.demo, enabled: false }, log: { level: 'warn' } }));
  child = await serve();
  browser = await launchChromium();
  for (const link of links) {
    const page = await (await browser.newContext({ viewport: { width: 640, height: 360 } })).newPage();
    await page.goto(url + link);
    pages.push(page);
  }
}, 120_000);
afterAll(async () => {
  child?.kill('SIGKILL');
  await browser?.close();
  await gw?.close();
  dir.remove();
});

const pages: Page[] = [];
const stats = (i: number) => pages[i]!.evaluate(() => (window as unknown as { __display?: { stats: () => ScreenStats } }).__display?.stats());
async function shown(i: number): Promise<Array<[string, string]>> {
  const s = await stats(i);
  return (s?.pictures ?? []).filter((p) => p.camera && p.live && p.frames > 0).map((p) => [p.key, p.camera!] as [string, string]).sort();
}

describe('a gateway killed under a wall', () => {
  it('is followed by its displays: the same pictures, playing again after the restart', async () => {
    const before = [
      await waitFor('screen 1 playing both', async () => { const s = await shown(0); return s.length === 2 ? s : undefined; }, 30_000),
      await waitFor('screen 2 playing', async () => { const s = await shown(1); return s.length === 1 ? s : undefined; }, 30_000),
    ];
    child!.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    // The displays see the gateway gone (their pictures stop), then it is back.
    await waitFor('the displays see the gateway gone', async () => (await pages[0]!.textContent('.display-banner'))?.length, 15_000);
    child = await serve();
    // Back: the display's socket says so (the banner goes), then each picture plays fresh frames from the new process.
    await waitFor('the displays reconnected', async () => (await pages[0]!.evaluate(() => (document.querySelector('.display-banner') as HTMLElement).style.display)) === 'none', 30_000, 200);
    for (const [i, want] of before.entries()) {
      const after = await waitFor(`screen ${i + 1} back`, async () => {
        const s = await shown(i);
        return JSON.stringify(s) === JSON.stringify(want) ? s : undefined;
      }, 45_000, 250);
      expect(after).toEqual(want);
      const frames = async () => new Map((await stats(i))!.pictures.map((p) => [p.key, p.frames]));
      const f0 = await frames();
      await waitFor(`screen ${i + 1} frames going on`, async () => {
        const f1 = await frames();
        return want.every(([key]) => (f1.get(key) ?? 0) > (f0.get(key) ?? 0) + 10);
      }, 20_000, 250);
    }
  }, 150_000);
});
