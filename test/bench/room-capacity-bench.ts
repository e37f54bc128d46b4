// How many participants one room holds on this machine, every one sending a 720p simulcast camera and receiving
// every other one's 360p layer (a conference in grid view): the browsers are left out (on 2 cores their encoders
// and decoders were the limit, test/bench/README.md), their media is not. Each participant is a guest of a real
// room (joined by an invite link, her page's state request every second); her camera is three VP8 layers replayed
// without encoding into a producer on the room's own first router (RoomMedia.sendRouter), and she receives each
// other participant on a transport of her own (as the console's page has one connection per remote), placed by
// the room over the gateway's workers (RoomMedia.place: the least loaded, the sender's media piped there),
// SRTP-encrypted by the worker as for a browser. Sizes grow until the room misses its marks: a consumer not on the
// 360p layer, fewer than 99% of the layer's packets sent on, or a worker's one core spent. --workers 1 keeps the
// room on one worker (one thread).
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type * as ms from 'mediasoup/node/lib/types.js';
import type { WorkerSlot } from '../../gateway/src/media/webrtc/workers.js';
import { login, startGateway, waitFor, type TestGateway } from '../support/harness.js';
import { cpuSeconds, memoryKb } from './proc-stats.js';
import { fixed, log, machineLine, quantiles } from './bench-util.js';
import { makeClips } from './vp8-rtp.js';
import type { LoadCommand, LoadReply, LoadSender } from './room-load.js';

export interface RoomCapacityOptions { sizes: number[]; windowS: number; workers: number }

/** Load is the participants' process. */
class Load {
  readonly child: ChildProcess;
  readonly #waiting = new Map<string, (m: LoadReply) => void>();
  constructor() {
    this.child = fork(fileURLToPath(new URL('./room-load.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: LoadReply) => { this.#waiting.get(m.type)?.(m); this.#waiting.delete(m.type); });
  }
  next<T extends LoadReply['type']>(type: T): Promise<Extract<LoadReply, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the participants' process did not answer ${type}`)), 30_000);
      this.#waiting.set(type, (m) => { clearTimeout(timer); resolve(m as Extract<LoadReply, { type: T }>); });
    });
  }
  send(c: LoadCommand): void {
    this.child.send(c);
  }
  async stats(): Promise<Extract<LoadReply, { type: 'stats' }>> {
    const p = this.next('stats');
    this.send({ type: 'stats' });
    return p;
  }
}

const ssrc = (): number => (randomBytes(4).readUInt32BE(0) >>> 1) | 1;

interface Pair { from: number; to: number; video: ms.Consumer; audio: ms.Consumer; transport: ms.PlainTransport; slot: WorkerSlot }

/** Figures of one size. */
interface Row { n: number; holds: boolean; why: string[]; line: string }

async function runSize(gw: TestGateway, cookie: string, clips: string[], n: number, windowS: number): Promise<Row> {
  // The room and its guests, as invite links make them.
  const room = (await gw.gateway.http.inject({ method: 'POST', url: '/api/rooms', headers: { cookie }, payload: { kind: 'conference', title: `capacity ${n}`, members: [{ username: 'township-operator', role: 'party' }] } })).json<{ id: string }>().id;
  const polls: Array<{ url: string; secret: string }> = [];
  for (let i = 0; i < n; i++) {
    const inv = await gw.gateway.http.inject({ method: 'POST', url: `/api/rooms/${room}/invites`, headers: { cookie }, payload: { name: `参会人${i + 1}`, role: 'party', minutes: 60 } });
    if (inv.statusCode !== 201) throw new Error(`invite ${i} refused: ${inv.statusCode} ${inv.body}`);
    const { token } = inv.json<{ token: string }>();
    const g = await gw.gateway.http.inject({ method: 'POST', url: `/api/rooms/${room}/guests`, payload: { token } });
    if (g.statusCode !== 200) throw new Error(`guest ${i} could not join: ${g.statusCode} ${g.body}`);
    const { participant, secret } = g.json<{ participant: string; secret: string }>();
    polls.push({ url: `${gw.url}/api/rooms/${room}/participants/${participant}/room`, secret });
  }
  const media = gw.gateway.roomMedia!;
  // The room's own routers: its publications on the first, its viewers placed over the workers as a room's are.
  const router = await media.sendRouter(room);
  const load = new Load();
  try {
    const ports = (await load.next('ports')).ports;
    const senders: LoadSender[] = [];
    const cameras: Array<{ video: ms.Producer; audio: ms.Producer; mid: number }> = [];
    for (let i = 0; i < n; i++) {
      const t = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true });
      const ssrcs = [ssrc(), ssrc(), ssrc()];
      const audioSsrc = ssrc();
      const video = await t.produce({
        kind: 'video',
        rtpParameters: {
          codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }] }],
          encodings: ssrcs.map((s) => ({ ssrc: s })),
        },
      });
      const audio = await t.produce({ kind: 'audio', rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: audioSsrc }] } });
      senders.push({ port: t.tuple.localPort, ssrcs, audioSsrc });
      cameras.push({ video, audio, mid: ssrcs[1]! });
    }
    load.send({ type: 'start', clips, senders, polls });
    await load.next('started');
    const pairs: Pair[] = [];
    for (let to = 0; to < n; to++) {
      for (let from = 0; from < n; from++) {
        if (from === to) continue;
        const place = await media.place(room);
        await place.take(cameras[from]!.video.id);
        await place.take(cameras[from]!.audio.id);
        const transport = await place.router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: false, enableSrtp: true, srtpCryptoSuite: 'AES_CM_128_HMAC_SHA1_80' });
        await transport.connect({ ip: '127.0.0.1', port: ports[to % ports.length]!, srtpParameters: { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80', keyBase64: randomBytes(30).toString('base64') } });
        const video = await transport.consume({ producerId: cameras[from]!.video.id, rtpCapabilities: place.router.rtpCapabilities, preferredLayers: { spatialLayer: 1 } });
        const audio = await transport.consume({ producerId: cameras[from]!.audio.id, rtpCapabilities: place.router.rtpCapabilities });
        // Counted on the worker's load as a browser's two consumers are (the next viewer is placed by it).
        place.slot.load += 2;
        pairs.push({ from, to, video, audio, transport, slot: place.slot });
      }
    }
    // Every consumer on the 360p layer (it switches on the layer's next keyframe, within 2 s).
    await waitFor('every consumer on the 360p layer', () => (pairs.every((x) => x.video.currentLayers?.spatialLayer === 1) ? true : undefined), 20_000, 250).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 2000));
    const workers = gw.gateway.webrtc!.pool.pids();
    const s0 = await load.stats();
    const sent0 = await Promise.all(pairs.map(async (x) => (await x.video.getStats()).find((s) => s.type === 'outbound-rtp')?.packetCount ?? 0));
    const w0 = workers.map(cpuSeconds);
    const g0 = process.cpuUsage();
    const l0 = cpuSeconds(load.child.pid!);
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, windowS * 1000));
    const secs = (Date.now() - t0) / 1000;
    const w1 = workers.map(cpuSeconds);
    const g1 = process.cpuUsage(g0);
    const l1 = cpuSeconds(load.child.pid!);
    const s1 = await load.stats();
    const sent1 = await Promise.all(pairs.map(async (x) => (await x.video.getStats()).find((s) => s.type === 'outbound-rtp')?.packetCount ?? 0));
    const atMid = pairs.filter((x) => x.video.currentLayers?.spatialLayer === 1).length;
    const got = (ss: number, s: Extract<LoadReply, { type: 'stats' }>) => s.ssrcs[ss]?.packets ?? 0;
    const lost = (ss: number, s: Extract<LoadReply, { type: 'stats' }>) => s.ssrcs[ss]?.lost ?? 0;
    // What each sender's 360p layer carried in the window, as the participants' process sent it.
    const expected = cameras.map((c) => (s1.sent.bySsrc[c.mid] ?? 0) - (s0.sent.bySsrc[c.mid] ?? 0));
    const sentRatio: number[] = [];
    const arrivedRatio: number[] = [];
    let lostPackets = 0;
    let arrivedBytes = 0;
    pairs.forEach((x, k) => {
      const out = x.video.rtpParameters.encodings![0]!.ssrc!;
      const want = Math.max(1, expected[x.from]!);
      sentRatio.push((sent1[k]! - sent0[k]!) / want);
      arrivedRatio.push((got(out, s1) - got(out, s0)) / want);
      lostPackets += lost(out, s1) - lost(out, s0);
      arrivedBytes += (s1.ssrcs[out]?.bytes ?? 0) - (s0.ssrcs[out]?.bytes ?? 0);
      const a = x.audio.rtpParameters.encodings![0]!.ssrc!;
      arrivedBytes += (s1.ssrcs[a]?.bytes ?? 0) - (s0.ssrcs[a]?.bytes ?? 0);
    });
    const perWorker = workers.map((_p, i) => (w1[i]! - w0[i]!) / secs);
    const workerCpu = Math.max(...perWorker);
    const placed = workers.map((_p, i) => pairs.filter((x) => x.slot.index === i).length);
    const sq = quantiles(sentRatio);
    const aq = quantiles(arrivedRatio);
    const pq = quantiles(s1.polls.ms.length ? s1.polls.ms : [0]);
    const why: string[] = [];
    if (atMid < pairs.length) why.push(`${pairs.length - atMid} consumers not on the 360p layer`);
    if (Math.min(...sentRatio) < 0.99) why.push(`a consumer sent on ${fixed(Math.min(...sentRatio) * 100, 1)}% of its layer's packets`);
    if (workerCpu > 0.9) why.push(`a worker used ${fixed(workerCpu, 2)} of its one core`);
    if (s1.polls.failed > 0) why.push(`${s1.polls.failed} state requests failed`);
    const line = `${n} participants (${pairs.length} video + ${pairs.length} audio consumers, ${n * (n - 1)} transports, viewers per worker ${placed.join(' + ')}): workers ${perWorker.map((c) => fixed(c, 3)).join(' + ')} CPU-s/s, RSS ${workers.map((w) => fixed(memoryKb(w).rss / 1024, 0)).join(' + ')} MB; `
      + `gateway process ${fixed((g1.user + g1.system) / 1e6 / secs, 3)} CPU-s/s; participants' process ${fixed((l1 - l0) / secs, 3)} CPU-s/s; `
      + `out ${fixed((arrivedBytes * 8) / secs / 1e6, 1)} Mbit/s; on 360p ${atMid}/${pairs.length}; layer packets sent on p50 ${fixed(sq.median * 100, 1)}% min ${fixed(Math.min(...sentRatio) * 100, 1)}%, `
      + `arrived p50 ${fixed(aq.median * 100, 1)}% (lost ${lostPackets}); state request p50 ${fixed(pq.median, 1)} ms p95 ${fixed(pq.p95, 1)} ms`;
    return { n, holds: why.length === 0, why, line };
  } finally {
    load.send({ type: 'stop' });
    await gw.gateway.http.inject({ method: 'POST', url: `/api/rooms/${room}/end`, headers: { cookie } }).catch(() => undefined);
  }
}

/** runRoomCapacityBench grows the room until it no longer holds. */
export async function runRoomCapacityBench(o: RoomCapacityOptions): Promise<void> {
  log(`room capacity benchmark on ${machineLine()}`);
  const gw = await startGateway({ cameras: 50, media: { webrtc: { workers: o.workers, port: 0, maxViewers: 500 } } });
  try {
    const clips = makeClips(gw.gateway.config.media.ffmpegPath ?? 'ffmpeg', join(gw.dir, 'clips'));
    const cookie = await login(gw, 'county-admin');
    let best = 0;
    for (const n of o.sizes) {
      const row = await runSize(gw, cookie, clips, n, o.windowS);
      log(`  ${row.line}`);
      if (!row.holds) {
        log(`  ${n} participants do not hold: ${row.why.join('; ')}`);
        break;
      }
      best = n;
    }
    log(`the most participants one room held on ${o.workers} worker(s), each sending 720p simulcast and receiving every other at 360p: ${best || 'none of the sizes'} (sizes ${o.sizes.join(', ')}, ${o.windowS} s each)`);
  } finally {
    await gw.close();
  }
}
