// Loaded into a test page after hls.js: plays one stream (HLS, or WebRTC over WHEP) and, every `every` ms of decoded pictures, reads the index
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
  const hls = o.playlistUrl ? startHls(o, video, state) : undefined;
  const t0 = performance.now();
  let lastSample = 0;
  const onFrame = () => {
    state.frames++;
    state.currentTime = video.currentTime;
    state.width = video.videoWidth;
    state.height = video.videoHeight;
    if (hls) {
      state.hlsLatency = hls.latency;
      state.targetLatency = hls.targetLatency ?? undefined;
    }
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
  if (o.whepUrl && o.player === 'eyevinn') startEyevinn(o, video, state);
  else if (o.whepUrl) startWhep(o, video, state);
  video.play().catch(() => undefined);
};

function startHls(o, video, state) {
  // In low-latency mode the playlist's PART-HOLD-BACK decides how far behind the edge to play (a liveSync setting
  // would override it, as hls.js reads user settings first).
  const hls = new window.Hls(o.lowLatency ? { lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.5 } : { lowLatencyMode: false, liveSyncDurationCount: 2, liveMaxLatencyDurationCount: 6 });
  hls.on(window.Hls.Events.ERROR, (_e, data) => { if (data.fatal) state.errors.push(data.details); });
  hls.loadSource(o.playlistUrl);
  hls.attachMedia(video);
  return hls;
}

// A bare WHEP client: recvonly transceivers, the offer POSTed, the answer set.
function startWhep(o, video, state) {
  const pc = new RTCPeerConnection();
  state.pc = 'new';
  pc.onconnectionstatechange = () => { state.pc = pc.connectionState; };
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.ontrack = (e) => { if (e.track.kind === 'video') video.srcObject = e.streams[0] || new MediaStream([e.track]); };
  window.glassPc = pc;
  (async () => {
    if (o.codecs) {
      const t = pc.getTransceivers()[0];
      const caps = RTCRtpReceiver.getCapabilities('video').codecs.filter((c) => o.codecs.some((n) => c.mimeType.toLowerCase() === `video/${n.toLowerCase()}`) || /rtx|red|ulpfec/i.test(c.mimeType));
      t.setCodecPreferences(caps);
    }
    await pc.setLocalDescription(await pc.createOffer());
    const res = await fetch(o.whepUrl, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription.sdp });
    state.whepStatus = res.status;
    state.codecHeader = res.headers.get('x-stream-codec');
    if (res.status !== 201) { state.errors.push(`whep ${res.status}: ${await res.text()}`); return; }
    state.location = res.headers.get('location');
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  })().catch((err) => state.errors.push(`whep: ${err.message}`));
}

// The Eyevinn WebRTC player's own WHEP adapter (a player no one here wrote), bundled for the page by the test.
function startEyevinn(o, video, state) {
  const player = new window.EyevinnPlayer.WebRTCPlayer({ video, type: 'whep', timeoutThreshold: 10000 });
  player.on('no-media', () => state.errors.push('eyevinn: no media'));
  player.load(new URL(o.whepUrl, window.location.href)).catch((err) => state.errors.push(`eyevinn: ${err.message}`));
  window.glassPlayer = player;
}
