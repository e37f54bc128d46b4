// Test harness: a real simulator, a real gateway on a temporary SQLite file, logins, and Chromium.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Simulator } from '../../adapters/simulator/simulator.js';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { Gateway } from '../../gateway/src/app.js';

/** ROOT is the checkout. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** CLIP_DIR is shared by every test: clips are encoded once. */
export const CLIP_DIR = join(ROOT, 'var/clips');
export const SIM_USER = 'admin';
export const SIM_PASSWORD = 'sim-Test-pass';
export const DEMO_PASSWORD = 'Demo#2026';

/** freePort returns a loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** tempDir makes a folder removed by the returned function. */
export function tempDir(prefix = 'seg-test-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** startSimulator runs a farm on free loopback ports, with ONVIF; discovery answers for the given cameras on UDP 3702. */
export function startSimulator(opts: { discoverable?: string[] } = {}): Promise<Simulator> {
  return Simulator.start({
    host: '127.0.0.1', rtspPort: 0, controlPort: 0, onvifPort: 0, username: SIM_USER, password: SIM_PASSWORD, clipDir: CLIP_DIR,
    ...(opts.discoverable ? { discovery: { port: 3702, cameras: opts.discoverable } } : {}),
  });
}

/** TestGateway is a running gateway with its simulator. */
export interface TestGateway {
  gateway: Gateway;
  simulator: Simulator;
  url: string;
  /** dir is the gateway's own folder: its store, live media and recordings. */
  dir: string;
  /** logs holds every log line the gateway wrote (JSON text), when startGateway was asked to keep them. */
  logs: string[];
  /** restart stops the gateway (as a kill would, its clients cut off) and starts it again on the same store and port. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** startGateway runs a gateway on a fresh store, seeded with a demo city of `cameras` cameras served by a fresh simulator. */
export async function startGateway(opts: { cameras?: number; http?: Record<string, unknown>; imports?: Record<string, unknown>; media?: Record<string, unknown>; auth?: Record<string, unknown>; health?: Record<string, unknown>; metrics?: Record<string, unknown>; audit?: Record<string, unknown>; events?: Record<string, unknown>; console?: Record<string, unknown>; withConsole?: boolean; discoverable?: string[]; keepLogs?: boolean } = {}): Promise<TestGateway> {
  const dir = tempDir();
  const simulator = await startSimulator({ discoverable: opts.discoverable });
  const config = loadConfig({
    overrides: {
      http: { port: 0, ...opts.http },
      store: { path: join(dir.path, 'gateway.db') },
      secrets: { keyFile: join(dir.path, 'master.key') },
      media: { hlsDir: join(dir.path, 'hls'), idleLingerSeconds: 5, retryBaseSeconds: 0.5, retryMaxSeconds: 4, startTimeoutSeconds: 8, stallTimeoutSeconds: 4, webrtc: { workers: 1, port: 0 }, rtsp: { port: 0 }, rtmp: { port: 0 }, ...opts.media },
      auth: { ...opts.auth },
      // Sweeps of thousands of cameras would load the machine under tests that do not look at health.
      health: { enabled: false, ...opts.health },
      metrics: { ...opts.metrics },
      audit: { ...opts.audit },
      imports: { ...opts.imports },
      events: { flushMs: 50, webhookRetries: 1, ...opts.events },
      console: { ...opts.console },
      demo: {
        enabled: true, wall: false, cameras: opts.cameras ?? 2000, password: DEMO_PASSWORD,
        simulator: { host: '127.0.0.1', rtspPort: simulator.rtsp.address().port, onvifPort: simulator.onvif!.port, username: SIM_USER, password: SIM_PASSWORD, clipDir: CLIP_DIR },
      },
      log: { level: 'silent' },
    },
  });
  const logs: string[] = [];
  const logger = opts.keepLogs
    ? pino({ level: 'debug' }, { write: (line: string) => { logs.push(line); } })
    : pino({ level: process.env.TEST_LOG ?? 'silent' });
  const gateway = await Gateway.create({
    config,
    logger,
    consoleDir: opts.withConsole ? join(ROOT, 'console/dist') : undefined,
  });
  const url = await gateway.listen();
  const made: TestGateway = {
    gateway, simulator, url, logs, dir: dir.path,
    async restart() {
      const port = Number(new URL(made.url).port);
      await made.gateway.close();
      const again: Config = { ...config, http: { ...config.http, port } };
      made.gateway = await Gateway.create({ config: again, logger, consoleDir: opts.withConsole ? join(ROOT, 'console/dist') : undefined });
      await made.gateway.listen();
    },
    async close() {
      await made.gateway.close();
      await simulator.close();
      dir.remove();
    },
  };
  return made;
}

/** login returns the session cookie header of a demo account. */
export async function login(gw: TestGateway, username: string, password = DEMO_PASSWORD): Promise<string> {
  const res = await gw.gateway.http.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });
  if (res.statusCode !== 200) throw new Error(`login ${username} failed: ${res.statusCode} ${res.body}`);
  const cookie = res.cookies.find((c) => c.name === 'seg_session');
  if (!cookie) throw new Error('login set no session cookie');
  return `seg_session=${cookie.value}`;
}

/**
 * grantToVillage has the county administrator push live viewing of one of her cameras outside the village clerk's unit
 * to that village; revoke withdraws the grant and answers the HTTP status.
 */
export async function grantToVillage(gw: TestGateway): Promise<{ camera: string; revoke: () => Promise<number> }> {
  const unitOf = (u: string) => gw.gateway.demoAccounts.find((a) => a.username === u)!.unit;
  const village = unitOf('village-clerk');
  const access = gw.gateway.access;
  const camera = access.camerasUnder(unitOf('county-admin')).find((id) => !access.tree.contains(village, access.unitOf(id)!))!;
  const admin = await login(gw, 'county-admin');
  const made = await gw.gateway.http.inject({ method: 'POST', url: '/api/grants', headers: { cookie: admin }, payload: { toUnit: village, cameras: [camera], actions: ['live'], reGrant: false } });
  if (made.statusCode !== 201) throw new Error(`granting ${camera} to the village failed: ${made.statusCode} ${made.body}`);
  const id = made.json<{ id: number }>().id;
  return { camera, revoke: async () => (await gw.gateway.http.inject({ method: 'DELETE', url: `/api/grants/${id}`, headers: { cookie: admin } })).statusCode };
}

/** setFaults flips a camera's knobs through the simulator's control endpoint, as an operator would. */
export async function setFaults(sim: Simulator, camera: string, faults: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${sim.controlUrl()}/cameras/${camera}/faults`, { method: 'PUT', body: JSON.stringify(faults) });
  if (!res.ok) throw new Error(`setting faults failed: ${res.status} ${await res.text()}`);
}

/** CHROMIUM_ARGS are the flags Debian's Chromium needs here (closed network, root, no GPU, WebRTC on loopback). */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required',
  '--allow-loopback-in-peer-connection',
];

/** launchChromium starts Debian's Chromium headless. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** openConsole opens the console in a new page and submits the login form (it does not wait for the result). */
export async function openConsole(browser: Browser, url: string, username: string, password = DEMO_PASSWORD, viewport = { width: 1400, height: 900 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  await page.goto(url);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  return page;
}

/** pickUnit chooses a unit in one of the console's unit pickers: types its code, clicks the match, waits for the choice. */
export async function pickUnit(page: Page, testid: string, code: string): Promise<void> {
  await page.fill(`[data-testid=${testid}]`, code);
  await page.click(`[data-testid=${testid}-options] [data-testid=unit-option][data-code="${code}"]`);
  await page.waitForSelector(`[data-testid=${testid}-chosen][data-code="${code}"]`);
}

/** waitFor polls until check returns a value, or throws after timeoutMs naming what it waited for. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** bytesOf reads what the stream hub serves for a file: bytes in memory, or a byte range of a file it wrote. */
export function bytesOf(file: { chunks: Buffer[] } | { path: string; start?: number; end?: number }): Buffer {
  if ('chunks' in file) return Buffer.concat(file.chunks);
  const data = readFileSync(file.path);
  return file.start === undefined ? data : data.subarray(file.start, (file.end ?? data.length - 1) + 1);
}
