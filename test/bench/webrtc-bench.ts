// WebRTC and the other outputs: glass-to-glass latency of WebRTC, LL-HLS and HTTP-FLV read off the counter clip's
// pictures; time to first frame over WebRTC, warm (the stream already pulled) and cold; the mediasoup worker's CPU
// with 50 to 500 consumers of one 2 Mbps stream; the gateway's CPU per stream with and without a WebRTC feed.
// The gateway, its simulator and the readers run in this process (the worker and ffmpeg in their own): the gateway's
// figures are differences between two runs of the same process, the worker's are its own.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type * as ms from 'mediasoup/node/lib/types.js';
import type { Browser, Page } from 'playwright-core';
import { COUNTER_BAND, COUNTER_BITS, COUNTER_SPEC } from '../../adapters/simulator/clip-maker.js';
import { glassState, playCounter, playWhep } from '../support/glass-page.js';
import { launchChromium, openConsole, setFaults, startGateway, type TestGateway } from '../support/harness.js';
import { BusFeed } from '../../gateway/src/media/webrtc/bus-feed.js';
import { routerFor } from '../../gateway/src/media/webrtc/workers.js';
import { chooseCodecs } from '../../gateway/src/media/webrtc/codec-choice.js';
import type { VideoParams } from '../../gateway/src/media/core/access-unit.js';
import { fixed as f, log, machineLine, quantiles } from './bench-util.js';
import { cpuSeconds } from './proc-stats.js';

/** WebRtcBenchOptions choose the consumer counts, the CPU window, the samples and the glass time. */
export interface WebRtcBenchOptions {
  viewers: number[];
  windowS: number;
  samples: number;
  glassS: number;
  streams: number;
  /** parts picks what runs: glass, ttff, worker, gateway (all by default). */
  parts: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ticketIn(page: Page, camera: string, profile: 'main' | 'sub'): Promise<{ whepUrl: string; playlistUrl: string; flvUrl: string }> {
  return page.evaluate(async ([c, p]) => {
    const res = await fetch('/api/streams', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ camera: c, profile: p }) });
    return (await res.json()) as { whepUrl: string; playlistUrl: string; flvUrl: string };
  }, [camera, profile] as const);
}

/** glass samples the latency of what a page shows for seconds. */
async function glass(page: Page, seconds: number): Promise<number[]> {
  const deadline = Date.now() + 30_000;
  while ((await glassState(page)).frames < 25 && Date.now() < deadline) await sleep(250);
  const before = (await glassState(page)).samples.length;
  await sleep(seconds * 1000);
  await sleep(1000);
  return (await glassState(page)).samples.slice(before).flatMap((s) => (s.latencyMs === undefined ? [] : [s.latencyMs]));
}

/** flvGlass decodes the HTTP-FLV with ffmpeg (a player) and reads each picture's index from its top band. */
async function flvGlass(gw: TestGateway, url: string, camera: string, seconds: number): Promise<number[]> {
  const width = COUNTER_SPEC.width;
  const ff = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-fflags', 'nobuffer', '-flags', 'low_delay',
    '-i', url, '-vf', `crop=${width}:2:0:${Math.round(COUNTER_BAND / 2) & ~1},format=gray`, '-f', 'rawvideo', 'pipe:1']);
  const latencies: number[] = [];
  let buf = Buffer.alloc(0);
  let lastSample = 0;
  const started = Date.now();
  ff.stdout.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    // Two rows a picture (4:2:0 crops by even sizes): the first is read.
    while (buf.length >= 2 * width) {
      const row = buf.subarray(0, width);
      buf = buf.subarray(2 * width);
      const now = Date.now();
      if (now - started < 2000 || now - lastSample < 250) continue;
      lastSample = now;
      let index = 0;
      for (let bit = 0; bit < COUNTER_BITS; bit++) if (row[Math.round((bit + 0.5) * (width / COUNTER_BITS))]! > 128) index |= 1 << bit;
      const shownAt = now;
      void fetch(`${gw.simulator.controlUrl()}/cameras/${camera}/sent?frame=${index}`).then((r) => r.json()).then((j: { sentAt: number }) => {
        if (j.sentAt > 0) latencies.push(shownAt - j.sentAt);
      }, () => undefined);
    }
  });
  let said = '';
  ff.stderr.on('data', (d: Buffer) => { said += d.toString(); });
  await sleep((seconds + 2) * 1000);
  ff.kill('SIGKILL');
  if (latencies.length === 0) log(`ffmpeg read no picture of the FLV: ${said.trim().slice(-300)}`);
  await sleep(500);
  return latencies;
}

const q = (xs: number[]) => {
  if (xs.length === 0) return 'no samples';
  const r = quantiles(xs);
  return `p50 ${Math.round(r.median)} ms, p95 ${Math.round(r.p95)} ms (${xs.length} pictures)`;
};

/** runWebRtcBench prints the figures. */
export async function runWebRtcBench(o: WebRtcBenchOptions): Promise<void> {
  log(`webrtc: ${machineLine()}`);
  const gw = await startGateway({
    cameras: 400, withConsole: true,
    media: { webrtc: { workers: 1, port: 0, maxViewers: 10_000 }, maxStreamsPerUser: 1000, maxStreamsPerUnit: 1000, idleLingerSeconds: 120 },
  });
  let browser: Browser | undefined;
  try {
    const cameras = gw.gateway.access.camerasUnder(gw.gateway.access.tree.root.code);
    browser = await launchChromium();
    const page = await openConsole(browser, gw.url, 'city-admin');
    await page.waitForSelector('[data-testid=tree-search]');

    const on = (part: string) => o.parts.includes(part);
    // Glass to glass: the counter clip, one protocol at a time.
    const counter = cameras[1]!;
    if (on('glass')) {
    await setFaults(gw.simulator, counter, { counter: true });
    const t = await ticketIn(page, counter, 'sub');
    const rtc = await openConsole(browser, gw.url, 'city-admin');
    await rtc.waitForSelector('[data-testid=tree-search]');
    await playWhep(rtc, { whepUrl: (await ticketIn(rtc, counter, 'sub')).whepUrl, controlUrl: gw.simulator.controlUrl()!, camera: counter });
    log(`glass-to-glass WebRTC: ${q(await glass(rtc, o.glassS))}`);
    await rtc.close();
    const hls = await openConsole(browser, gw.url, 'city-admin');
    await hls.waitForSelector('[data-testid=tree-search]');
    await playCounter(hls, { playlistUrl: (await ticketIn(hls, counter, 'sub')).playlistUrl, lowLatency: true, controlUrl: gw.simulator.controlUrl()!, camera: counter });
    log(`glass-to-glass LL-HLS (hls.js): ${q(await glass(hls, o.glassS))}`);
    await hls.close();
    log(`glass-to-glass HTTP-FLV (ffmpeg decoding, low-delay flags): ${q(await flvGlass(gw, `${gw.url}${t.flvUrl}`, counter, o.glassS))}`);
    }

    // Time to first frame over WebRTC: cold (nobody pulls the camera yet) and warm (a second viewer of it).
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; on('ttff') && i < o.samples; i++) {
      const camera = cameras[10 + i]!;
      for (const into of [cold, warm]) {
        const p = await openConsole(browser, gw.url, 'city-admin');
        await p.waitForSelector('[data-testid=tree-search]');
        const tk = await ticketIn(p, camera, 'sub');
        await playWhep(p, { whepUrl: tk.whepUrl, controlUrl: gw.simulator.controlUrl()!, camera });
        const deadline = Date.now() + 20_000;
        let s = await glassState(p);
        while (s.firstFrameMs === undefined && Date.now() < deadline) {
          await sleep(20);
          s = await glassState(p);
        }
        if (s.firstFrameMs !== undefined) into.push(s.firstFrameMs);
        if (into === warm) await p.close();
        else await sleep(500);
      }
    }
    const ttff = (xs: number[]) => (xs.length ? `p50 ${Math.round(quantiles(xs).median)} ms, p95 ${Math.round(quantiles(xs).p95)} ms (${xs.length})` : 'none');
    if (on('ttff')) log(`time to first frame over WebRTC (offer to first decoded picture, GOP 2 s, keyframe asked by ONVIF): warm ${ttff(warm)}; cold ${ttff(cold)}`);
    await browser.close();
    browser = undefined;

    // The worker's CPU with n consumers of one 2 Mbps main stream. Each consumer is a PlainTransport with SRTP (the
    // per-packet work of a WebRTC consumer: RTP rewrite and SRTP encryption) sending to a socket that never reads.
    if (!on('worker') && !on('gateway')) return;
    const pool = gw.gateway.webrtc!.pool;
    const slot = pool.slots[0]!;
    const main = cameras[200]!;
    gw.gateway.hub.open(main, 'main', { key: 'bench', user: '1', unit: 'bench' });
    await gw.gateway.hub.waitLive(main, 'main', 15_000);
    const bus = gw.gateway.hub.bus(main, 'main')!;
    const codecs: ms.RtpCodecCapability[] = [{ kind: 'video', mimeType: 'video/H264', clockRate: 90000, preferredPayloadType: 102, parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 } }];
    // The codecs as the gateway chooses them for a browser that offers this one (the camera's level kept).
    const choice = chooseCodecs(codecs, bus.tracks[bus.videoTrack]!.params as VideoParams)!;
    const router = await routerFor(slot, choice.routerCodecs);
    const feed = await BusFeed.create(slot, router, bus, { video: choice.video });
    // The sink is a socket in another process that never reads: the kernel drops what overflows its buffer.
    const sink = spawn('/usr/bin/python3', ['-c', "import socket,time; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1',0)); print(s.getsockname()[1], flush=True); time.sleep(1e6)"]);
    const sinkPort = await new Promise<number>((r) => sink.stdout.once('data', (d: Buffer) => r(Number(d.toString().trim()))));
    const transports: ms.PlainTransport[] = [];
    const idleStart = cpuSeconds(slot.worker.pid);
    await sleep(o.windowS * 1000);
    const idle = (cpuSeconds(slot.worker.pid) - idleStart) / o.windowS;
    log(`mediasoup worker with the feed and no consumer: ${f(idle * 100, 1)}% of a core`);
    for (const n of on('worker') ? o.viewers : []) {
      while (transports.length < n) {
        const tr = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: false, enableSrtp: true, srtpCryptoSuite: 'AES_CM_128_HMAC_SHA1_80' });
        await tr.connect({ ip: '127.0.0.1', port: sinkPort, srtpParameters: { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80', keyBase64: randomBytes(30).toString('base64') } });
        await tr.consume({ producerId: feed.video.id, rtpCapabilities: { codecs, headerExtensions: [] } });
        transports.push(tr);
      }
      await sleep(3000);
      const c0 = cpuSeconds(slot.worker.pid);
      await sleep(o.windowS * 1000);
      const cpu = (cpuSeconds(slot.worker.pid) - c0) / o.windowS;
      log(`mediasoup worker, ${n} consumers of one 2 Mbps stream: ${f(cpu * 100, 1)}% of a core (${f(((cpu - idle) / n) * 1000, 2)} ms CPU per consumer per second)`);
    }
    for (const tr of transports) tr.close();
    feed.close();
    sink.kill('SIGKILL');

    if (!on('gateway')) return;
    // The gateway's CPU per stream: s main streams on the bus (LL-HLS made of each), then a WebRTC feed of each.
    const streams = cameras.slice(220, 220 + o.streams);
    for (const c of streams) gw.gateway.hub.open(c, 'main', { key: 'bench', user: '1', unit: 'bench' });
    for (const c of streams) await gw.gateway.hub.waitLive(c, 'main', 20_000);
    await sleep(3000);
    const u0 = process.cpuUsage();
    await sleep(o.windowS * 1000);
    const u1 = process.cpuUsage(u0);
    const without = (u1.user + u1.system) / 1e6 / o.windowS;
    const feeds: BusFeed[] = [];
    for (const c of streams) {
      feeds.push(await BusFeed.create(slot, router, gw.gateway.hub.bus(c, 'main')!, { video: choice.video }));
    }
    await sleep(3000);
    const u2 = process.cpuUsage();
    await sleep(o.windowS * 1000);
    const u3 = process.cpuUsage(u2);
    const withFeed = (u3.user + u3.system) / 1e6 / o.windowS;
    log(`gateway process (with its simulator) at ${o.streams} main streams: ${f(without, 3)} CPU-s/s without WebRTC, ${f(withFeed, 3)} with a WebRTC feed of each: +${f((withFeed - without) / o.streams, 4)} CPU-s per stream per second for the feed`);
    for (const fd of feeds) fd.close();
  } finally {
    await browser?.close();
    await gw.close();
  }
}
