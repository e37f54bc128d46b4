// A page that plays one stream in hls.js (the build the console ships, loaded from node_modules) and reads, on every
// decoded picture, the index the simulator's counter clip draws on it: with the simulator's send time of that index,
// the latency from camera to glass, measured on one machine with one clock.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { COUNTER_BAND, COUNTER_BITS, COUNTER_SPEC } from '../../adapters/simulator/clip-maker.js';
import { ROOT } from './harness.js';

/** GlassSample is one decoded picture: its index and, once the simulator answered, its glass-to-glass latency. */
export interface GlassSample {
  index: number;
  shownAt: number;
  latencyMs?: number;
}

/** GlassState is what the page collected so far. */
export interface GlassState {
  frames: number;
  samples: GlassSample[];
  errors: string[];
  firstFrameMs?: number;
  /** lowLatency says whether hls.js ran in low-latency mode and the playlist had parts. */
  lowLatency: boolean;
  currentTime: number;
  /** hlsLatency and targetLatency are hls.js's own figures (seconds behind the live edge), bufferAhead what it holds. */
  hlsLatency?: number;
  targetLatency?: number;
  bufferAhead?: number;
  playbackRate?: number;
}

/**
 * playCounter starts hls.js in page (already on the gateway's origin and logged in) on playlistUrl; every sampleEveryMs
 * it reads the picture's index and asks the simulator's control endpoint when that index was sent.
 */
export async function playCounter(page: Page, opts: { playlistUrl: string; lowLatency: boolean; controlUrl: string; camera: string; sampleEveryMs?: number }): Promise<void> {
  await page.addScriptTag({ path: join(ROOT, 'node_modules/hls.js/dist/hls.min.js') });
  await page.evaluate(({ playlistUrl, lowLatency, controlUrl, camera, every, band, bits, width }) => {
    interface HlsLike {
      latency: number;
      targetLatency: number | null;
      on(event: string, f: (e: unknown, data: { fatal: boolean; details: string }) => void): void;
      loadSource(url: string): void;
      attachMedia(v: HTMLVideoElement): void;
    }
    const w = window as unknown as { glass: GlassState; Hls: { new (config: object): HlsLike; Events: { ERROR: string } } };
    const state: GlassState = { frames: 0, samples: [], errors: [], lowLatency, currentTime: 0 };
    w.glass = state;
    const video = document.createElement('video');
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    document.body.appendChild(video);
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = band;
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    const hls = new w.Hls(lowLatency
      // In low-latency mode the playlist's PART-HOLD-BACK decides how far behind the edge to play (a liveSync setting
      // would override it, as hls.js reads user settings first).
      ? { lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.5 }
      : { lowLatencyMode: false, liveSyncDurationCount: 2, liveMaxLatencyDurationCount: 6 });
    hls.on(w.Hls.Events.ERROR, (_e, data) => { if (data.fatal) state.errors.push(data.details); });
    const t0 = performance.now();
    let lastSample = 0;
    const onFrame = () => {
      state.frames++;
      state.currentTime = video.currentTime;
      state.hlsLatency = hls.latency;
      state.targetLatency = hls.targetLatency ?? undefined;
      state.playbackRate = video.playbackRate;
      state.bufferAhead = video.buffered.length > 0 ? video.buffered.end(video.buffered.length - 1) - video.currentTime : 0;
      const now = performance.now();
      if (state.firstFrameMs === undefined) state.firstFrameMs = now - t0;
      if (now - lastSample >= every) {
        lastSample = now;
        const shownAt = Date.now();
        ctx.drawImage(video, 0, 0, width, band, 0, 0, width, band);
        const row = ctx.getImageData(0, Math.round(band / 2), width, 1).data;
        let index = 0;
        for (let bit = 0; bit < bits; bit++) {
          const x = Math.round((bit + 0.5) * (width / bits));
          if (row[4 * x]! > 128) index |= 1 << bit;
        }
        const sample: GlassSample = { index, shownAt };
        state.samples.push(sample);
        fetch(`${controlUrl}/cameras/${camera}/sent?frame=${index}`).then((r) => r.json()).then((j: { sentAt: number }) => {
          if (j.sentAt > 0) sample.latencyMs = shownAt - j.sentAt;
        }, (err: Error) => state.errors.push(`control: ${err.message}`));
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
    hls.loadSource(playlistUrl);
    hls.attachMedia(video);
    void video.play().catch(() => undefined);
  }, { ...opts, every: opts.sampleEveryMs ?? 250, band: COUNTER_BAND, bits: COUNTER_BITS, width: COUNTER_SPEC.width });
}

/** glassState reads what the page collected. */
export function glassState(page: Page): Promise<GlassState> {
  return page.evaluate(() => (window as unknown as { glass: GlassState }).glass);
}
