// A page that plays one stream in hls.js (the build the console ships, loaded from node_modules) and reads, on every
// decoded picture, the index the simulator's counter clip draws on it: with the simulator's send time of that index,
// the latency from camera to glass, measured on one machine with one clock.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { COUNTER_BAND, COUNTER_BITS, COUNTER_SPEC } from '../../adapters/simulator/clip-maker.js';
import { ROOT, waitFor } from './harness.js';

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
  /** width and height are the decoded picture's. */
  width?: number;
  height?: number;
  /** pc is the WebRTC connection state (the bare WHEP client); whepStatus the answer's HTTP status. */
  pc?: string;
  whepStatus?: number;
  codecHeader?: string | null;
  location?: string | null;
}

/**
 * playCounter starts hls.js in page (already on the gateway's origin and logged in) on playlistUrl; every sampleEveryMs
 * it reads the picture's index and asks the simulator's control endpoint when that index was sent.
 */
export async function playCounter(page: Page, opts: { playlistUrl: string; lowLatency: boolean; controlUrl: string; camera: string; sampleEveryMs?: number }): Promise<void> {
  await page.addScriptTag({ path: join(ROOT, 'node_modules/hls.js/dist/hls.min.js') });
  await page.addScriptTag({ path: join(ROOT, 'test/support/glass-page.browser.js') });
  const args = { ...opts, every: opts.sampleEveryMs ?? 250, band: COUNTER_BAND, bits: COUNTER_BITS, width: COUNTER_SPEC.width };
  // A string, not a function: a function would be sent as the test runner compiled it, with helpers the page lacks.
  await page.evaluate(`window.startGlass(${JSON.stringify(args)})`);
}

/**
 * playWhep plays one stream over WebRTC in page: with the page's own bare WHEP client, or with the Eyevinn WebRTC
 * player (a WHEP client no one here wrote). codecs limits the video codecs the page offers (H264 alone: a browser that
 * does not decode H.265).
 */
export async function playWhep(page: Page, opts: { whepUrl: string; controlUrl: string; camera: string; player?: 'own' | 'eyevinn'; codecs?: string[]; sampleEveryMs?: number }): Promise<void> {
  if (opts.player === 'eyevinn') await page.addScriptTag({ content: await eyevinnBundle() });
  await page.addScriptTag({ path: join(ROOT, 'test/support/glass-page.browser.js') });
  const args = { ...opts, every: opts.sampleEveryMs ?? 250, band: COUNTER_BAND, bits: COUNTER_BITS, width: COUNTER_SPEC.width };
  await page.evaluate(`window.startGlass(${JSON.stringify(args)})`);
}

let bundle: Promise<string> | undefined;
/** eyevinnBundle is @eyevinn/webrtc-player built for the browser as window.EyevinnPlayer. */
function eyevinnBundle(): Promise<string> {
  bundle ??= import('esbuild').then(async ({ build }) => {
    const out = await build({
      entryPoints: [join(ROOT, 'node_modules/@eyevinn/webrtc-player/dist/main.js')], bundle: true, format: 'iife',
      globalName: 'EyevinnPlayer', platform: 'browser', write: false, logLevel: 'silent',
    });
    return out.outputFiles[0]!.text;
  });
  return bundle;
}

/** glassState reads what the page collected. */
export function glassState(page: Page): Promise<GlassState> {
  return page.evaluate('window.glass') as Promise<GlassState>;
}

/** waitPictures waits, 30 s at most, until page has shown more than frames pictures; an error the page met fails at once. */
export function waitPictures(page: Page, what: string, frames: number): Promise<GlassState> {
  return waitFor(what, async () => {
    const s = await glassState(page);
    if (s.errors.length) throw new Error(s.errors.join('; '));
    return s.frames > frames && s;
  }, 30_000, 250);
}
