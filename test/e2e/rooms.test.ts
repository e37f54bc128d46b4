// A mediation room in Chromium with fake cameras and microphones (first slice of the rooms): a host and a party send
// and receive each other's video and audio through the room's mediasoup router; an observer receives both and may
// send nothing; the host's mute silences a party for everyone, and a removed party cannot join again.
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, openConsole, startGateway, waitFor, type TestGateway } from '../support/harness.js';

let gw: TestGateway;
let browser: Browser;
beforeAll(async () => {
  // Two mediasoup workers, as on a 2-core node: a room's viewers are spread over both (its media piped between them).
  gw = await startGateway({ cameras: 200, withConsole: true, media: { webrtc: { workers: 2, port: 0 } } });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
  });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

async function loggedIn(user: string): Promise<Page> {
  const page = await openConsole(browser, gw.url, user);
  await page.waitForSelector('[data-testid=tree-unit]');
  return page;
}
const call = (page: Page, method: string, path: string, body?: unknown) => page.evaluate(async ([m, p, b]) => {
  const res = await fetch(p as string, { method: m as string, headers: b === undefined ? {} : { 'content-type': 'application/json' }, body: b === undefined ? undefined : JSON.stringify(b) });
  return { status: res.status, body: res.status === 204 ? null : await res.json().catch(() => null) };
}, [method, path, body] as const);

/** send has the page send its fake camera and microphone into the room. */
function send(page: Page, room: string, me: string, auth = '', simulcast = false): Promise<{ status: number; text: string }> {
  return page.evaluate(async ([room, me, auth, simulcast]) => {
    const stream = await navigator.mediaDevices.getUserMedia({ video: simulcast ? { width: 1280, height: 720 } : { width: 640, height: 360 }, audio: true });
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    // Simulcast as the console sends it: 180p, 360p and 720p layers.
    const layers = [{ rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 }, { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 }, { rid: 'f', maxBitrate: 1_500_000 }];
    for (const t of stream.getTracks()) {
      const tr = pc.addTransceiver(t, simulcast && t.kind === 'video' ? { direction: 'sendonly', sendEncodings: layers } : { direction: 'sendonly' });
      if (simulcast && t.kind === 'video') {
        const set = t.getSettings();
        (window as unknown as { __sent: string }).__sent = `${set.width}x${set.height}`;
        // A busy machine lowers the frame rate, not the layers' sizes: the layer a viewer gets is then known by its size.
        const params = tr.sender.getParameters() as RTCRtpSendParameters & { degradationPreference?: string };
        params.degradationPreference = 'maintain-resolution';
        await tr.sender.setParameters(params);
      }
    }
    await pc.setLocalDescription(await pc.createOffer());
    const res = await fetch(`/api/rooms/${room}/participants/${me}/send`, { method: 'POST', headers: { 'content-type': 'application/sdp', ...(auth ? { authorization: `Bearer ${auth}` } : {}) }, body: pc.localDescription!.sdp });
    const text = await res.text();
    if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: text });
    return { status: res.status, text };
  }, [room, me, auth, simulcast] as const);
}

/** receive has the page receive one participant; its decoded frames and audio packets are counted. */
function receive(page: Page, room: string, me: string, from: string, query = ''): Promise<number> {
  return page.evaluate(async ([room, me, from, query]) => {
    const w = window as unknown as { __rx?: Record<string, { frames: number; pc: RTCPeerConnection }> };
    w.__rx ??= {};
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const video = document.createElement('video');
    video.muted = true;
    video.autoplay = true;
    document.body.append(video);
    const ms = new MediaStream();
    pc.ontrack = (e) => { ms.addTrack(e.track); video.srcObject = ms; };
    const rx = { frames: 0, pc };
    w.__rx[from] = rx;
    const onFrame = () => { rx.frames++; video.requestVideoFrameCallback(onFrame); };
    video.requestVideoFrameCallback(onFrame);
    await pc.setLocalDescription(await pc.createOffer());
    (rx as unknown as { video: HTMLVideoElement }).video = video;
    const res = await fetch(`/api/rooms/${room}/participants/${me}/receive/${from}${query}`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription!.sdp });
    if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    return res.status;
  }, [room, me, from, query] as const);
}
const frames = (page: Page, from: string) => page.evaluate((f) => (window as unknown as { __rx: Record<string, { frames: number }> }).__rx[f]?.frames ?? 0, from);
const audioPackets = (page: Page, from: string) => page.evaluate(async (f) => {
  const pc = (window as unknown as { __rx: Record<string, { pc: RTCPeerConnection }> }).__rx[f]!.pc;
  let n = 0;
  (await pc.getStats()).forEach((r: Record<string, unknown>) => { if (r.type === 'inbound-rtp' && r.kind === 'audio') n += Number(r.packetsReceived ?? 0); });
  return n;
}, from);

describe('a mediation room', () => {
  it('carries video and audio between host and party, to an observer who sends nothing; mutes and removes', async () => {
    const host = await loggedIn('county-admin');
    const party = await loggedIn('township-operator');
    const observer = await loggedIn('village-clerk');
    const made = await call(host, 'POST', '/api/rooms', { kind: 'mediation', title: '土地纠纷调解', members: [{ username: 'township-operator', role: 'party' }, { username: 'village-clerk', role: 'observer' }] });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const room = (made.body as { id: string }).id;
    // An account not invited does not find the room.
    const outsider = await loggedIn('village-clerk-2');
    expect((await call(outsider, 'POST', `/api/rooms/${room}/join`)).status).toBe(404);

    const join = async (p: Page) => ((await call(p, 'POST', `/api/rooms/${room}/join`)).body as { participant: string; role: string });
    const h = await join(host);
    const pa = await join(party);
    const ob = await join(observer);
    expect([h.role, pa.role, ob.role]).toEqual(['host', 'party', 'observer']);
    expect((await send(host, room, h.participant)).status).toBe(201);
    expect((await send(party, room, pa.participant)).status).toBe(201);
    const refused = await send(observer, room, ob.participant);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.text)).toMatchObject({ details: { reason: 'room-observer' } });

    expect(await receive(host, room, h.participant, pa.participant)).toBe(201);
    expect(await receive(party, room, pa.participant, h.participant)).toBe(201);
    expect(await receive(observer, room, ob.participant, h.participant)).toBe(201);
    expect(await receive(observer, room, ob.participant, pa.participant)).toBe(201);
    for (const [page, from] of [[host, pa.participant], [party, h.participant], [observer, h.participant], [observer, pa.participant]] as const) {
      await waitFor('pictures decoded', async () => (await frames(page, from)) > 20, 20_000);
      await waitFor('audio received', async () => (await audioPackets(page, from)) > 20, 20_000);
    }
    const state = await call(host, 'GET', `/api/rooms/${room}`);
    const sending = (state.body as { participants: Array<{ role: string; sending: string[] }> }).participants;
    expect(sending.find((p) => p.role === 'observer')!.sending).toEqual([]);
    expect(sending.find((p) => p.role === 'party')!.sending.sort()).toEqual(['audio', 'video']);

    // The host mutes the party: nobody hears her (her audio stops reaching the observer), her picture goes on.
    expect((await call(party, 'POST', `/api/rooms/${room}/participants/${pa.participant}/mute`, { muted: true })).status).toBe(403);
    expect((await call(host, 'POST', `/api/rooms/${room}/participants/${pa.participant}/mute`, { muted: true })).status).toBe(204);
    const quiet = await waitFor('the party silenced', async () => {
      const a = await audioPackets(observer, pa.participant);
      await new Promise((r) => setTimeout(r, 1000));
      const b = await audioPackets(observer, pa.participant);
      return b - a <= 2 ? b : undefined;
    }, 10_000, 0);
    const f = await frames(observer, pa.participant);
    await waitFor('her picture goes on', async () => (await frames(observer, pa.participant)) > f + 10, 10_000);
    expect((await call(host, 'POST', `/api/rooms/${room}/participants/${pa.participant}/mute`, { muted: false })).status).toBe(204);
    await waitFor('heard again', async () => (await audioPackets(observer, pa.participant)) > quiet + 20, 10_000);

    // Removed: her media ends for everyone, and she cannot join again.
    expect((await call(host, 'DELETE', `/api/rooms/${room}/participants/${pa.participant}`)).status).toBe(204);
    expect(gw.gateway.roomMedia!.publishing(room).map((p) => p.participant)).toEqual([h.participant]);
    const again = await call(party, 'POST', `/api/rooms/${room}/join`);
    expect(again.status).toBe(403);
    expect(again.body).toMatchObject({ details: { reason: 'room-removed' } });
    expect((await call(host, 'POST', `/api/rooms/${room}/end`)).status).toBe(204);
    expect(gw.gateway.roomMedia!.publishing(room)).toEqual([]);
    const actions = gw.gateway.audit.query({ units: gw.gateway.access.tree.subtree(gw.gateway.access.tree.root.code).map((u) => u.code), limit: 100, offset: 0 }).entries.map((e) => e.action);
    for (const a of ['room.create', 'room.join', 'room.mute', 'room.remove', 'room.end']) expect(actions).toContain(a);
  }, 120_000);

  it('lets a party without an account join by an invite link, once; removed, she is out and the link stays spent', async () => {
    const host = await loggedIn('county-admin');
    const made = await call(host, 'POST', '/api/rooms', { kind: 'mediation', title: '劳务纠纷', members: [] });
    const room = (made.body as { id: string }).id;
    const h = (await call(host, 'POST', `/api/rooms/${room}/join`)).body as { participant: string };
    expect((await send(host, room, h.participant)).status).toBe(201);
    const invite = await call(host, 'POST', `/api/rooms/${room}/invites`, { name: '张某 (外省务工)', role: 'party', minutes: 30 });
    expect(invite.status, JSON.stringify(invite.body)).toBe(201);
    const { token, url } = invite.body as { token: string; url: string };
    expect(url).toBe(`/room/${room}#invite=${token}`);
    // A browser of its own, no login: the link's token makes her a participant with her own secret.
    const guest = await (await browser.newContext()).newPage();
    await guest.goto(gw.url);
    const redeem = () => guest.evaluate(async ([room, token]) => {
      const res = await fetch(`/api/rooms/${room}/guests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
      return { status: res.status, body: await res.json() as Record<string, unknown> };
    }, [room, token] as const);
    const first = await redeem();
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const g = first.body as { participant: string; role: string; secret: string };
    expect(g.role).toBe('party');
    expect(await redeem()).toMatchObject({ status: 403, body: { details: { reason: 'room-invite-used' } } });
    expect((await send(guest, room, g.participant, g.secret)).status).toBe(201);
    expect(await receive(host, room, h.participant, g.participant)).toBe(201);
    await waitFor('the guest seen by the host', async () => (await frames(host, g.participant)) > 20, 20_000);
    // Her secret is hers alone: it speaks for no other participant.
    expect((await send(guest, room, h.participant, g.secret)).status).toBe(403);
    expect((await call(host, 'DELETE', `/api/rooms/${room}/participants/${g.participant}`)).status).toBe(204);
    const after = await send(guest, room, g.participant, g.secret);
    expect(after.status).toBe(401);
    expect(JSON.parse(after.text)).toMatchObject({ details: { reason: 'room-guest-ended' } });
    expect((await redeem()).body).toMatchObject({ details: { reason: 'room-invite-used' } });
    const audit = gw.gateway.audit.query({ units: gw.gateway.access.tree.subtree(gw.gateway.access.tree.root.code).map((u) => u.code), limit: 50, offset: 0 }).entries;
    expect(audit.find((e) => e.action === 'room.join' && e.username === 'guest:张某 (外省务工)')).toBeDefined();
    expect(audit.some((e) => e.action === 'room.invite')).toBe(true);
  }, 90_000);

  it('shows a surveillance camera brought in to everyone, from the one pull, until the right behind it is withdrawn', async () => {
    const host = await loggedIn('county-admin');
    const party = await loggedIn('township-operator');
    const access = gw.gateway.access;
    const township = gw.gateway.catalog.userWithHash('township-operator')!.user.unit;
    // A camera of the county outside the township, pushed down to the township: the party may view it.
    const camera = access.camerasUnder(gw.gateway.catalog.userWithHash('county-admin')!.user.unit).find((c) => !access.tree.contains(township, access.unitOf(c)!) && !gw.gateway.catalog.camera(c)?.mainUrl?.startsWith('rtmp-push:'))!;
    const grant = await call(host, 'POST', '/api/grants', { toUnit: township, cameras: [camera], actions: ['live'], reGrant: false });
    expect(grant.status, JSON.stringify(grant.body)).toBe(201);
    const made = await call(host, 'POST', '/api/rooms', { kind: 'mediation', title: '现场查看', members: [{ username: 'township-operator', role: 'party' }] });
    const room = (made.body as { id: string }).id;
    const h = (await call(host, 'POST', `/api/rooms/${room}/join`)).body as { participant: string };
    const pa = (await call(party, 'POST', `/api/rooms/${room}/join`)).body as { participant: string };
    expect((await call(party, 'POST', `/api/rooms/${room}/participants/${pa.participant}/cameras`, { camera })).status).toBe(204);
    const state = (await call(host, 'GET', `/api/rooms/${room}`)).body as { cameras: Array<{ camera: string; by: string }> };
    expect(state.cameras).toEqual([expect.objectContaining({ camera, name: gw.gateway.catalog.summary(camera)!.name })]);
    // Each plays it with a URL signed for her place in the room.
    const play = (page: Page, me: string) => page.evaluate(async ([room, me, camera]) => {
      const m = await (await fetch(`/api/rooms/${room}/participants/${me}/cameras/${camera}/media?profile=sub`)).json() as { whepUrl: string };
      const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
      pc.addTransceiver('video', { direction: 'recvonly' });
      const video = document.createElement('video');
      video.muted = true;
      video.autoplay = true;
      document.body.append(video);
      const w = window as unknown as { __cam?: { frames: number } };
      w.__cam = { frames: 0 };
      pc.ontrack = (e) => { video.srcObject = new MediaStream([e.track]); };
      const onFrame = () => { w.__cam!.frames++; video.requestVideoFrameCallback(onFrame); };
      video.requestVideoFrameCallback(onFrame);
      await pc.setLocalDescription(await pc.createOffer());
      const res = await fetch(m.whepUrl, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription!.sdp });
      await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
      return res.headers.get('location')!;
    }, [room, me, camera] as const);
    const hostView = await play(host, h.participant);
    await play(party, pa.participant);
    for (const page of [host, party]) await waitFor('the camera playing', () => page.evaluate(() => ((window as unknown as { __cam: { frames: number } }).__cam.frames > 20)), 20_000);
    // One pull of the camera, shared by both.
    const streams = gw.gateway.hub.list().filter((s) => s.camera === camera);
    expect(streams).toHaveLength(1);
    expect(streams[0]!.viewers).toBeGreaterThanOrEqual(2);
    // The grant withdrawn: the camera leaves the room and both views end, within 5 s.
    const t0 = Date.now();
    expect((await call(host, 'DELETE', `/api/grants/${(grant.body as { id: number }).id}`)).status).toBe(200);
    await waitFor('the camera out of the room', async () => ((await call(host, 'GET', `/api/rooms/${room}`)).body as { cameras: unknown[] }).cameras.length === 0, 5000, 100);
    await waitFor('the host\'s view ended', async () => (await call(host, 'GET', hostView)).status === 404, 5000, 100);
    expect(Date.now() - t0).toBeLessThan(5000);
    const gone = await call(party, 'GET', `/api/rooms/${room}/participants/${pa.participant}/cameras/${camera}/media`);
    expect(gone).toMatchObject({ status: 403, body: { details: { reason: 'room-camera-gone' } } });
  }, 90_000);

  it('runs in the console: a room opened from the form, entered by the party, a guest by the link the host makes; each sees the others', async () => {
    const host = await loggedIn('county-admin');
    await host.click('[data-testid=nav-rooms]');
    await host.fill('[data-testid=room-form-title]', '邻里纠纷调解');
    await host.fill('[data-testid=room-form-members]', 'township-operator');
    await host.click('[data-testid=room-form-submit]');
    await host.waitForSelector('[data-testid=room-view]');
    const party = await loggedIn('township-operator');
    await party.click('[data-testid=nav-rooms]');
    await party.click('[data-testid=room-item][data-title="邻里纠纷调解"] [data-testid=room-enter]');
    await party.waitForSelector('[data-testid=room-view]');
    await host.click('[data-testid=room-invite]');
    const link = (await host.textContent('[data-testid=room-invite-link]'))!.split(' ').pop()!;
    expect(link).toMatch(/\/room\/[\w-]+#invite=segi_/);
    const guest = await (await browser.newContext()).newPage();
    await guest.goto(link);
    await guest.waitForSelector('[data-testid=room-view]');
    // The token left the address bar.
    expect(guest.url()).not.toContain('invite=');
    const playing = (page: Page, n: number) => page.waitForFunction((n) => Array.from(document.querySelectorAll<HTMLVideoElement>('[data-testid=room-remote] video'))
      .filter((v) => v.getVideoPlaybackQuality().totalVideoFrames > 10).length >= n, n, { timeout: 30_000, polling: 200 });
    await playing(host, 2);
    await playing(party, 2);
    await playing(guest, 2);
    expect(await host.textContent('[data-testid=room-view]')).toContain('受邀当事人');
    // Six views of three senders: the room is on both workers, what the second one's viewers see piped to it.
    const roomId = (await host.getAttribute('[data-testid=room-view]', 'data-room'))!;
    expect(gw.gateway.roomMedia!.workersOf(roomId)).toEqual([0, 1]);

    // The mediasoup worker dies: the room moves to its replacement and every page reconnects by itself.
    const frames = (page: Page) => page.evaluate(() => Array.from(document.querySelectorAll<HTMLVideoElement>('[data-testid=room-remote] video')).map((v) => v.getVideoPlaybackQuality().totalVideoFrames));
    const before = await Promise.all([host, party, guest].map(frames));
    const pid = gw.gateway.webrtc!.pool.pids()[0]!;
    process.kill(pid, 'SIGKILL');
    await waitFor('a new worker', () => gw.gateway.webrtc!.pool.pids().some((p) => p !== pid), 20_000);
    for (const [i, page] of [host, party, guest].entries()) {
      await waitFor(`page ${i + 1} playing again`, async () => {
        const now = await frames(page);
        // Each remote picture is a new player, or the old one going on: either way 2 pictures moving past the cut.
        return now.length >= 2 && now.filter((f, j) => f > (before[i]![j] ?? 0) + 30 || (f > 30 && f < (before[i]![j] ?? 0))).length >= 2;
      }, 40_000, 250);
    }
  }, 120_000);

  it('sends a camera in simulcast layers: a viewer asking for 360p gets the half-size layer (640×360 of 720p), one asking for 720p the full one, from one publication', async () => {
    const host = await loggedIn('county-admin');
    const party = await loggedIn('township-operator');
    const made = await call(host, 'POST', '/api/rooms', { kind: 'conference', title: '分层', members: [{ username: 'township-operator', role: 'party' }] });
    const room = (made.body as { id: string }).id;
    const h = (await call(host, 'POST', `/api/rooms/${room}/join`)).body as { participant: string };
    const pa = (await call(party, 'POST', `/api/rooms/${room}/join`)).body as { participant: string };
    expect((await send(host, room, h.participant, '', true)).status).toBe(201);
    expect(await receive(party, room, pa.participant, h.participant, '?quality=mid')).toBe(201);
    const size = (page: Page, from: string) => page.evaluate((f) => {
      const v = (window as unknown as { __rx: Record<string, { video: HTMLVideoElement }> }).__rx[f]!.video;
      return `${v.videoWidth}x${v.videoHeight}`;
    }, from);
    let seen = '';
    // The camera as the browser opened it (1280×720 asked; a fake device shared with other pages may give another size).
    const [w, hgt] = (await host.evaluate(() => (window as unknown as { __sent: string }).__sent)).split('x').map(Number) as [number, number];
    expect(w).toBeGreaterThanOrEqual(640);
    await waitFor('the 360p layer', async () => (seen = await size(party, h.participant)) === `${w / 2}x${hgt / 2}`, 30_000, 200).catch((err: Error) => { throw new Error(`${err.message} (the picture was ${seen})`); });
    // The same viewer asks again for 720p: her earlier view of that source ends, the new one gets the top layer.
    expect(await receive(party, room, pa.participant, h.participant, '?quality=high')).toBe(201);
    // The top layer whenever the browser sends it: a busy machine's browser may hold it back (its bandwidth estimate
    // still rising, or its encoder short of time), and then the viewer has the best layer there is, never less.
    const full = await waitFor('the 720p layer', async () => (seen = await size(party, h.participant)) === `${w}x${hgt}`, 30_000, 200).catch(() => false);
    if (!full) {
      const layers = await gw.gateway.roomMedia!.layersSent(room, h.participant);
      expect(layers.find((l) => l.rid === 'f')?.bitrate ?? 0, `the picture stayed ${seen}; layers sent ${JSON.stringify(layers)}`).toBeLessThan(100_000);
      expect(seen).toBe(`${w / 2}x${hgt / 2}`);
    }
    expect(gw.gateway.roomMedia!.receiving(room, pa.participant)).toEqual([h.participant]);
    expect((await call(host, 'POST', `/api/rooms/${room}/end`)).status).toBe(204);
  }, 90_000);
});
