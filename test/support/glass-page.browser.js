// Loaded into a test page after hls.js: plays one stream and, every `every` ms of decoded pictures, reads the index
// the simulator's counter clip draws in its top band and asks the simulator when that picture was sent. Plain
// JavaScript, so that no build step adds helpers the page does not have.
/* global window, document, performance, fetch */
window.startGlass = function startGlass(o) {
  const state = { frames: 0, samples: [], errors: [], lowLatency: o.lowLatency, currentTime: 0 };
  window.glass = state;
  const video = document.createElement('video');
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  document.body.appendChild(video);
  const canvas = document.createElement('canvas');
  canvas.width = o.width;
  canvas.height = o.band;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  // In low-latency mode the playlist's PART-HOLD-BACK decides how far behind the edge to play (a liveSync setting
  // would override it, as hls.js reads user settings first).
  const hls = new window.Hls(o.lowLatency ? { lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.5 } : { lowLatencyMode: false, liveSyncDurationCount: 2, liveMaxLatencyDurationCount: 6 });
  hls.on(window.Hls.Events.ERROR, (_e, data) => { if (data.fatal) state.errors.push(data.details); });
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
    if (now - lastSample >= o.every) {
      lastSample = now;
      const shownAt = Date.now();
      ctx.drawImage(video, 0, 0, o.width, o.band, 0, 0, o.width, o.band);
      const row = ctx.getImageData(0, Math.round(o.band / 2), o.width, 1).data;
      let index = 0;
      for (let bit = 0; bit < o.bits; bit++) {
        const x = Math.round((bit + 0.5) * (o.width / o.bits));
        if (row[4 * x] > 128) index |= 1 << bit;
      }
      const sample = { index, shownAt };
      state.samples.push(sample);
      fetch(`${o.controlUrl}/cameras/${o.camera}/sent?frame=${index}`).then((r) => r.json()).then((j) => {
        if (j.sentAt > 0) sample.latencyMs = shownAt - j.sentAt;
      }, (err) => state.errors.push(`control: ${err.message}`));
    }
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
  hls.loadSource(o.playlistUrl);
  hls.attachMedia(video);
  video.play().catch(() => undefined);
};
