// A participant whose network drops: her media runs through a UDP relay (her page is told the relay's port instead
// of the gateway's, the TCP candidate left out, so UDP is her only path), and the relay then drops every flow she
// had, for good, as a phone that leaves its Wi-Fi does. Her console page notices the dead connections, makes new
// ones, and she is seen and sees again within seconds, in the same room, without anyone doing anything.
import { createSocket, type Socket } from 'node:dgram';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, DEMO_PASSWORD, startGateway, waitFor, type TestGateway } from '../support/harness.js';

/** Relay forwards UDP between browsers and the gateway's WebRTC port; cut() drops every flow it carries now, for good. */
class Relay {
  readonly socket: Socket = createSocket('udp4');
  readonly #flows = new Map<string, { up: Socket; cut: boolean }>();
  #target = 0;
  dropped = 0;

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', resolve));
    this.socket.on('message', (msg, from) => {
      const key = `${from.address}:${from.port}`;
      let flow = this.#flows.get(key);
      if (!flow) {
        const up = createSocket('udp4');
        up.bind(0, '127.0.0.1');
        const made = { up, cut: false };
        up.on('message', (back) => { if (made.cut) this.dropped++; else this.socket.send(back, from.port, from.address); });
        this.#flows.set(key, made);
        flow = made;
      }
      if (flow.cut || this.#target === 0) { this.dropped++; return; }
      flow.up.send(msg, this.#target, '127.0.0.1');
    });
    return (this.socket.address()).port;
  }

  set target(port: number) { this.#target = port; }
  get flows(): number { return [...this.#flows.values()].filter((f) => !f.cut).length; }

  cut(): void {
    for (const f of this.#flows.values()) f.cut = true;
  }

  close(): void {
    for (const f of this.#flows.values()) f.up.close();
    this.socket.close();
  }
}

let gw: TestGateway;
let browser: Browser;
const relay = new Relay();
let relayPort = 0;
beforeAll(async () => {
  gw = await startGateway({ cameras: 200, withConsole: true });
  relayPort = await relay.start();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
  });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  relay.close();
  await gw?.close();
});

/** open logs a user in, in a browser context of her own; through() sends her media by the relay. */
async function open(user: string, through: boolean): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  if (through) {
    // Every answer her page takes names the relay's UDP port instead of the gateway's, and no TCP candidate.
    await context.addInitScript((port: number) => {
      const set = RTCPeerConnection.prototype.setRemoteDescription as (this: RTCPeerConnection, d: RTCSessionDescriptionInit) => Promise<void>;
      RTCPeerConnection.prototype.setRemoteDescription = function (this: RTCPeerConnection, d?: RTCSessionDescriptionInit) {
        if (d?.sdp) {
          const w = window as unknown as { __gatewayPorts?: number[] };
          const sdp = d.sdp.split('\r\n').filter((l) => !(l.startsWith('a=candidate:') && / tcp /i.test(l))).map((l) => {
            const m = /^(a=candidate:\S+ \d+ udp \d+ \S+ )(\d+)( typ host.*)$/i.exec(l);
            if (!m) return l;
            (w.__gatewayPorts ??= []).push(Number(m[2]));
            return `${m[1]}${port}${m[3]}`;
          }).join('\r\n');
          return set.call(this, { type: d.type, sdp });
        }
        return set.call(this, d as RTCSessionDescriptionInit);
      } as typeof RTCPeerConnection.prototype.setRemoteDescription;
    }, relayPort);
  }
  const page = await context.newPage();
  await page.goto(gw.url);
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', DEMO_PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-testid=tree-unit]');
  return page;
}

const frames = (page: Page) => page.evaluate(() => Array.from(document.querySelectorAll<HTMLVideoElement>('[data-testid=room-remote] video')).map((v) => v.getVideoPlaybackQuality().totalVideoFrames));
/** moving waits until a page's remote picture has gained frames past `from` (a new player, or the old one going on). */
const moving = (page: Page, past: number, ms: number) => waitFor('the remote picture moving', async () => {
  const f = await frames(page);
  return f.length > 0 && f.every((n) => n > past + 15 || (n > 15 && n < past)) ? f : undefined;
}, ms, 200);

describe('a participant whose network drops', () => {
  it('rejoins the same room by herself within seconds: she sees and is seen again', async () => {
    const host = await open('county-admin', false);
    await host.click('[data-testid=nav-rooms]');
    await host.fill('[data-testid=room-form-title]', '断网重连');
    await host.fill('[data-testid=room-form-members]', 'township-operator');
    await host.click('[data-testid=room-form-submit]');
    await host.waitForSelector('[data-testid=room-view]');
    const room = (await host.getAttribute('[data-testid=room-view]', 'data-room'))!;
    const party = await open('township-operator', true);
    await party.click('[data-testid=nav-rooms]');
    await party.click('[data-testid=room-item][data-title="断网重连"] [data-testid=room-enter]');
    await party.waitForSelector('[data-testid=room-view]');
    // The gateway's port, as her page was told it, is where the relay sends.
    const gatewayPort = await waitFor('her first answer', () => party.evaluate(() => (window as unknown as { __gatewayPorts?: number[] }).__gatewayPorts?.[0]), 20_000, 100);
    relay.target = gatewayPort;
    await moving(host, 0, 30_000);
    await moving(party, 0, 30_000);
    expect(relay.flows).toBeGreaterThan(0);
    const before = gw.gateway.roomMedia!.publishing(room).map((p) => p.participant).sort();

    // Her network drops: every flow she had is gone for good.
    const [hostSaw] = await frames(host);
    const [partySaw] = await frames(party);
    const cutAt = Date.now();
    relay.cut();
    // Both pictures stop, then move again on new connections (new flows through the relay).
    await waitFor('the pictures frozen', async () => {
      const a = (await frames(host))[0]!;
      await new Promise((r) => setTimeout(r, 1000));
      return (await frames(host))[0]! - a <= 2;
    }, 10_000, 0);
    const back = Math.max(...(await Promise.all([moving(host, hostSaw!, 30_000), moving(party, partySaw!, 30_000)]).then(() => [Date.now() - cutAt])));
    expect(relay.dropped).toBeGreaterThan(0);
    expect(relay.flows).toBeGreaterThan(0);
    // The same room and the same participants: she is not a newcomer, and nothing of her old connections stays.
    expect(gw.gateway.roomMedia!.publishing(room).map((p) => p.participant).sort()).toEqual(before);
    const state = await host.evaluate(async (id) => (await (await fetch(`/api/rooms/${id}`)).json()) as { participants: unknown[] }, room);
    expect(state.participants).toHaveLength(2);
    // About 6 s on an idle 2-core machine: her page finds her connections silent for 2.5 s and makes them all again,
    // without waiting the 10 s and more Chromium's own ICE takes to give up; more under the whole suite.
    expect(back, `back ${back} ms after the cut`).toBeLessThan(15_000);
    console.log(`network drop: both pictures moving again ${back} ms after the cut`);
  }, 150_000);
});
