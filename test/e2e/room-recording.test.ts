// A mediation recorded and put on record, in Chromium with fake cameras and microphones: the host (an account) and a
// party by invite link send, an observer listens; everyone's state shows the recording while it runs; stopped, each
// publication's track and the composed MP4 are read by ffprobe (their lengths those of the recording), every file's
// SHA-256 is the one in the audit trail and verify finds a changed byte; the case's agreement is confirmed by the party
// in the session and the case, searched in the subtree, is exported as a PDF that pdftotext reads.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, openConsole, startGateway, waitFor, type TestGateway } from '../support/harness.js';

const run = promisify(execFile);
let gw: TestGateway;
let browser: Browser;
beforeAll(async () => {
  gw = await startGateway({ cameras: 200, withConsole: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    // The fake screen answers getDisplayMedia (a shared screen) as the fake camera answers getUserMedia.
    args: [...CHROMIUM_ARGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--auto-select-desktop-capture-source=Entire screen'],
  });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

const call = (page: Page, method: string, path: string, body?: unknown, bearer = '') => page.evaluate(async ([m, p, b, bearer]) => {
  const headers: Record<string, string> = b === undefined ? {} : { 'content-type': 'application/json' };
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  const res = await fetch(p as string, { method: m as string, headers, body: b === undefined ? undefined : JSON.stringify(b) });
  return { status: res.status, body: res.status === 204 ? null : await res.json().catch(() => null) };
}, [method, path, body, bearer] as const);

function send(page: Page, room: string, me: string, auth = ''): Promise<number> {
  return page.evaluate(async ([room, me, auth]) => {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 360 }, audio: true });
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    for (const t of stream.getTracks()) pc.addTransceiver(t, { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    const res = await fetch(`/api/rooms/${room}/participants/${me}/send`, { method: 'POST', headers: { 'content-type': 'application/sdp', ...(auth ? { authorization: `Bearer ${auth}` } : {}) }, body: pc.localDescription!.sdp });
    if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    (window as unknown as { __pc: RTCPeerConnection }).__pc = pc;
    return res.status;
  }, [room, me, auth] as const);
}
const sentFrames = (page: Page) => page.evaluate(async () => {
  let n = 0;
  (await (window as unknown as { __pc: RTCPeerConnection }).__pc.getStats()).forEach((r: Record<string, unknown>) => { if (r.type === 'outbound-rtp' && r.kind === 'video') n += Number(r.framesEncoded ?? 0); });
  return n;
});

async function probe(path: string): Promise<{ duration: number; streams: Array<{ codec_type: string; codec_name: string }> }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=codec_type,codec_name', '-of', 'json', path]);
  const j = JSON.parse(stdout) as { format: { duration: string }; streams: Array<{ codec_type: string; codec_name: string }> };
  return { duration: Number(j.format.duration), streams: j.streams };
}
/** decodedSeconds decodes a file's video to the end (any damage fails) and says how long the pictures last. */
async function decodedSeconds(path: string): Promise<number> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=nb_read_frames,r_frame_rate', '-of', 'json', path]);
  const s = (JSON.parse(stdout) as { streams: Array<{ nb_read_frames: string; r_frame_rate: string }> }).streams[0]!;
  const [a, b] = s.r_frame_rate.split('/').map(Number);
  return Number(s.nb_read_frames) / (a! / b!);
}

async function loggedIn(user: string): Promise<Page> {
  const page = await openConsole(browser, gw.url, user);
  await page.waitForSelector('[data-testid=tree-unit]');
  return page;
}

describe('a recorded mediation', () => {
  it('records every sender and a composed file, fingerprinted in the audit trail; the party confirms the agreement; the case exports as a PDF', async () => {
    const host = await loggedIn('county-admin');
    const admin = gw.gateway.catalog.userWithHash('county-admin')!.user;
    const hostName = admin.displayName || admin.username;
    const observer = await loggedIn('village-clerk');
    const made = await call(host, 'POST', '/api/rooms', { kind: 'mediation', title: '宅基地界址纠纷', members: [{ username: 'village-clerk', role: 'observer' }], disputeType: 'land', parties: ['李某'] });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const room = (made.body as { id: string; case: { id: number; caseNo: string } }).id;
    const kase = (made.body as { case: { id: number; caseNo: string } }).case;
    expect(kase.caseNo).toMatch(/^.+-\d{4}-\d{4}$/);
    const h = (await call(host, 'POST', `/api/rooms/${room}/join`)).body as { participant: string };
    const ob = (await call(observer, 'POST', `/api/rooms/${room}/join`)).body as { participant: string };
    const invite = (await call(host, 'POST', `/api/rooms/${room}/invites`, { name: '王某', role: 'party', minutes: 30 })).body as { token: string };
    const guest = await (await browser.newContext()).newPage();
    await guest.goto(gw.url);
    const g = (await call(guest, 'POST', `/api/rooms/${room}/guests`, { token: invite.token })).body as { participant: string; secret: string };
    expect(await send(host, room, h.participant)).toBe(201);
    expect(await send(guest, room, g.participant, g.secret)).toBe(201);
    await waitFor('both sending', async () => (await sentFrames(host)) > 10 && (await sentFrames(guest)) > 10, 20_000);
    // The site of the dispute: a camera of the county the host brings in; it is recorded from the stream the room sees.
    const camera = gw.gateway.access.camerasUnder(admin.unit).find((x) => !gw.gateway.catalog.camera(x)?.mainUrl?.startsWith('rtmp-push:'))!;
    expect((await call(host, 'POST', `/api/rooms/${room}/participants/${h.participant}/cameras`, { camera })).status).toBe(204);
    const cameraName = gw.gateway.catalog.summary(camera)!.name;

    // Only the host records; while it runs every participant's state says so (the page shows the notice).
    expect((await call(guest, 'POST', `/api/rooms/${room}/recording`, { on: true }, g.secret)).status).toBe(401);
    const started = await call(host, 'POST', `/api/rooms/${room}/recording`, { on: true });
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    const recId = (started.body as { id: string }).id;
    for (const [page, me, bearer] of [[host, h.participant, ''], [guest, g.participant, g.secret], [observer, ob.participant, '']] as const) {
      const state = await call(page, 'GET', `/api/rooms/${room}/participants/${me}/room`, undefined, bearer);
      expect(state.body, `${me} ${bearer}`).toMatchObject({ recording: { id: recId } });
    }
    expect((await call(host, 'POST', `/api/rooms/${room}/recording`, { on: true })).body).toMatchObject({ details: { reason: 'room-recording-on' } });
    // No one watched the camera yet: its stream opens for the recording, whose track begins with its first picture.
    const recDir = join(gw.dir, 'recordings', room, recId);
    await waitFor("the camera's track begun", () => readdirSync(recDir).some((f) => f.includes('-camera-')) || undefined, 20_000, 100);
    // Six seconds of the session (the machine's clock: what the files must last).
    const begun = Date.now();
    await waitFor('six seconds recorded', async () => Date.now() - begun >= 6000, 10_000, 250);
    const stopped = await call(host, 'POST', `/api/rooms/${room}/recording`, { on: false });
    expect(stopped.status).toBe(200);
    await gw.gateway.recordings!.settled(recId);
    const rec = (await call(host, 'GET', `/api/recordings/${recId}`)).body as { state: string; durationMs: number; error: string | null; files: Array<{ name: string; kind: string; participantName?: string; sha256: string; bytes: number; auditId: number }> };
    expect(rec.state, rec.error ?? '').toBe('ready');
    expect(rec.durationMs).toBeGreaterThanOrEqual(6000);
    expect(rec.files.map((f) => f.kind).sort()).toEqual(['composed', 'track', 'track', 'track']);
    expect(rec.files.filter((f) => f.kind === 'track').map((f) => f.participantName).sort()).toEqual([hostName, '王某', cameraName].sort());
    // The camera's picture came from the pull the room's tiles show: one stream of it is open, its sub stream.
    expect(gw.gateway.hub.list().filter((x) => x.camera === camera).map((x) => x.profile)).toEqual(['sub']);

    const dir = join(gw.dir, 'recordings', room, recId);
    const seconds = rec.durationMs / 1000;
    for (const f of rec.files) {
      const path = join(dir, f.name);
      const bytes = readFileSync(path);
      // The fingerprint is the file's, and it is the one the audit trail holds.
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
      expect(bytes.length).toBe(f.bytes);
      expect(gw.gateway.audit.entry(f.auditId)).toMatchObject({ action: 'room.recording.file', detail: { recording: recId, file: f.name, sha256: f.sha256 } });
      const p = await probe(path);
      if (f.participantName === cameraName) {
        // The camera's track: its own H.264 as the camera sent it, from its first keyframe after the stream opened.
        expect(p.streams.map((s) => `${s.codec_type}:${s.codec_name}`), f.name).toEqual(['video:h264']);
        expect(p.duration, f.name).toBeGreaterThan(6 - 1);
        expect(p.duration, f.name).toBeLessThan(seconds + 2.5);
        expect(await decodedSeconds(path), f.name).toBeGreaterThan(6 - 1);
        continue;
      }
      expect(p.streams.map((s) => s.codec_type).sort(), f.name).toEqual(['audio', 'video']);
      if (f.kind === 'composed') {
        expect(p.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
        expect(Math.abs(p.duration - seconds), `composed ${p.duration} s of ${seconds} s`).toBeLessThan(0.5);
        expect(Math.abs((await decodedSeconds(path)) - seconds)).toBeLessThan(0.5);
      } else {
        // A track begins when its sender's first keyframe came (within a second of the start) and ends with the recording.
        expect(p.streams.map((s) => s.codec_name).sort()).toEqual(['opus', 'vp8']);
        expect(p.duration, f.name).toBeGreaterThan(seconds - 1.5);
        expect(p.duration, f.name).toBeLessThan(seconds + 0.5);
      }
    }
    // Played in the console with ranges (what a <video> asks for), by those who were in the room; others find nothing.
    const composed = rec.files.find((f) => f.kind === 'composed')!;
    const ranged = await host.evaluate(async ([id, name]) => {
      const res = await fetch(`/api/recordings/${id}/files/${name}`, { headers: { range: 'bytes=0-99' } });
      return { status: res.status, range: res.headers.get('content-range'), bytes: (await res.arrayBuffer()).byteLength };
    }, [recId, composed.name] as const);
    expect(ranged).toEqual({ status: 206, range: `bytes 0-99/${composed.bytes}`, bytes: 100 });
    const outsider = await loggedIn('village-clerk-2');
    expect((await call(outsider, 'GET', `/api/recordings/${recId}`)).status).toBe(404);
    expect((await call(observer, 'GET', `/api/recordings/${recId}`)).status).toBe(200);
    expect((await call(host, 'GET', `/api/recordings/${recId}/verify`)).body).toMatchObject({ ok: true, chain: true });
    const audit = gw.gateway.audit.query({ units: gw.gateway.access.tree.subtree(gw.gateway.access.tree.root.code).map((u) => u.code), limit: 200, offset: 0 }).entries;
    expect(audit.filter((e) => e.action === 'room.record').map((e) => e.detail.on).sort()).toEqual([false, true]);

    // The mediator writes the minutes and the agreement; the party confirms that text (a stale one is refused).
    const agreement = '双方同意以 2019 年测绘界桩为准，李某于十日内拆除越界围墙。';
    const patched = await call(host, 'PATCH', `/api/cases/${kase.id}`, { minutes: '双方陈述了各自的主张，调解员释明了相关法律规定。', agreement, outcome: 'settled' });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    const sha = (patched.body as { agreementSha256: string }).agreementSha256;
    expect(sha).toBe(createHash('sha256').update(agreement).digest('hex'));
    // An observer of a village does not find a county's case (the case is the county's record).
    expect((await call(observer, 'PATCH', `/api/cases/${kase.id}`, { outcome: 'referred' })).status).toBe(404);
    expect((await call(guest, 'POST', `/api/rooms/${room}/participants/${g.participant}/confirm`, { agreementSha256: '0'.repeat(64) }, g.secret)).body).toMatchObject({ details: { reason: 'case-agreement-changed' } });
    expect((await call(observer, 'POST', `/api/rooms/${room}/participants/${ob.participant}/confirm`, { agreementSha256: sha })).body).toMatchObject({ details: { reason: 'case-party-only' } });
    expect((await call(guest, 'POST', `/api/rooms/${room}/participants/${g.participant}/confirm`, { agreementSha256: sha }, g.secret)).status).toBe(204);
    const state = (await call(guest, 'GET', `/api/rooms/${room}/participants/${g.participant}/room`, undefined, g.secret)).body as { case: { confirmedBy: string[] } };
    expect(state.case.confirmedBy).toEqual(['王某']);
    expect((await call(host, 'POST', `/api/rooms/${room}/end`)).status).toBe(204);

    // Searched within the subtree: the county finds it by a party's name; a village outside it does not.
    const found = (await call(host, 'GET', `/api/cases?q=${encodeURIComponent('王某')}`)).body as { total: number; cases: Array<{ caseNo: string; outcome: string; endedAt: number | null; parties: string[]; confirmations: Array<{ party: string; current: boolean }> }> };
    expect(found.cases.map((c) => c.caseNo)).toContain(kase.caseNo);
    const c = found.cases.find((x) => x.caseNo === kase.caseNo)!;
    expect(c).toMatchObject({ outcome: 'settled', parties: ['李某', '王某'], confirmations: [{ party: '王某', current: true }] });
    expect(c.endedAt).not.toBeNull();
    expect(((await call(outsider, 'GET', `/api/cases?q=${encodeURIComponent(kase.caseNo)}`)).body as { total: number }).total).toBe(0);

    // Exported as a PDF: read back by pdftotext.
    const pdf = await host.evaluate(async (id) => {
      const res = await fetch(`/api/cases/${id}/pdf`);
      return { status: res.status, type: res.headers.get('content-type'), bytes: Array.from(new Uint8Array(await res.arrayBuffer())) };
    }, kase.id);
    expect(pdf).toMatchObject({ status: 200, type: 'application/pdf' });
    const pdfPath = join(gw.dir, 'case.pdf');
    writeFileSync(pdfPath, Buffer.from(pdf.bytes));
    const text = (await run('pdftotext', ['-enc', 'UTF-8', pdfPath, '-'])).stdout.replace(/\s+/g, '');
    for (const words of ['人民调解记录', kase.caseNo, '宅基地界址纠纷', '土地承包纠纷', '调解成功', '王某', '李某于十日内拆除越界围墙', composed.sha256]) expect(text, words).toContain(words.replace(/\s+/g, ''));

    // A byte changed in a track is found: verify names the file.
    const track = rec.files.find((f) => f.kind === 'track' && f.participantName !== cameraName)!;
    const bytes = readFileSync(join(dir, track.name));
    const at = Math.floor(bytes.length / 2);
    bytes[at] = bytes[at]! ^ 0xff;
    writeFileSync(join(dir, track.name), bytes);
    const verdict = (await call(host, 'GET', `/api/recordings/${recId}/verify`)).body as { ok: boolean; files: Array<{ name: string; ok: boolean; fault?: string }> };
    expect(verdict.ok).toBe(false);
    expect(verdict.files.filter((f) => !f.ok)).toEqual([expect.objectContaining({ name: track.name, fault: 'altered' })]);
  }, 180_000);

  it('runs in the console: the host shares her screen and records (everyone sees the notice), writes the agreement, the party confirms it; the case is found, its recording played and checked', async () => {
    const host = await loggedIn('county-admin');
    await host.click('[data-testid=nav-rooms]');
    await host.fill('[data-testid=room-form-title]', '邻里漏水纠纷');
    await host.fill('[data-testid=room-form-members]', 'township-operator');
    await host.selectOption('[data-testid=room-form-dispute]', 'neighbour');
    await host.click('[data-testid=room-form-submit]');
    await host.waitForSelector('[data-testid=room-case]');
    const party = await loggedIn('township-operator');
    party.on('dialog', (d) => void d.accept());
    await party.click('[data-testid=nav-rooms]');
    await party.click('[data-testid=room-item][data-title="邻里漏水纠纷"] [data-testid=room-enter]');
    await party.waitForSelector('[data-testid=room-view]');
    const playing = (page: Page) => page.waitForFunction(() => Array.from(document.querySelectorAll<HTMLVideoElement>('[data-testid=room-remote] video'))
      .some((v) => v.getVideoPlaybackQuality().totalVideoFrames > 10), undefined, { timeout: 30_000, polling: 200 });
    await playing(host);
    await playing(party);

    // The host shares her screen (a map, a document): the party sees it beside the pictures; a second share waits its turn.
    await host.click('[data-testid=room-share]');
    await host.waitForSelector('[data-testid=room-own-screen]');
    await party.waitForFunction(() => (document.querySelector<HTMLVideoElement>('[data-testid=room-screen] video')?.getVideoPlaybackQuality().totalVideoFrames ?? 0) > 10, undefined, { timeout: 30_000, polling: 200 });
    expect(await party.textContent('[data-testid=room-screen]')).toContain('共享屏幕');
    await party.click('[data-testid=room-share]');
    expect(await (await party.waitForSelector('[data-testid=room-notice]')).textContent()).toContain('同一时间只能一人共享');

    await host.click('[data-testid=room-record]');
    for (const page of [host, party]) expect(await (await page.waitForSelector('[data-testid=room-recording]')).textContent()).toContain('正在录音录像');
    await host.fill('[data-testid=case-agreement]', '楼上住户承担维修费用 800 元。');
    await host.selectOption('[data-testid=case-outcome]', 'settled');
    await host.click('[data-testid=case-save]');
    await host.waitForSelector('[data-testid=case-saved]');
    await party.waitForFunction(() => document.querySelector('[data-testid=case-agreement-text]')?.textContent?.includes('800'), undefined, { timeout: 10_000 });
    await party.click('[data-testid=case-confirm]');
    await party.waitForSelector('[data-testid=case-confirmed]');
    const partyName = (() => { const u = gw.gateway.catalog.userWithHash('township-operator')!.user; return u.displayName || u.username; })();
    await host.waitForFunction((n) => document.querySelector('[data-testid=case-confirmed-by]')?.textContent?.includes(n), partyName, { timeout: 10_000 });
    const begun = Date.now();
    await waitFor('three seconds recorded', async () => Date.now() - begun >= 3000, 10_000, 250);
    await host.click('[data-testid=room-record]');
    for (const page of [host, party]) await page.waitForSelector('[data-testid=room-recording]', { state: 'detached', timeout: 10_000 });
    await host.click('[data-testid=room-share]');
    await party.waitForSelector('[data-testid=room-screen]', { state: 'detached', timeout: 10_000 });
    host.on('dialog', (d) => void d.accept());
    await host.click('[data-testid=room-view] button:has-text("结束会议")');

    // The mediation records page: found by a word of the agreement, opened, its recording played and checked.
    await host.click('[data-testid=nav-cases]');
    await host.fill('[data-testid=cases-q]', '维修费用');
    await host.click('[data-testid=cases-search]');
    const row = await host.waitForSelector('[data-testid=case-row]');
    expect(await row.textContent()).toContain('调解成功');
    await row.click();
    await host.waitForSelector('[data-testid=case-recording][data-state=ready]', { timeout: 60_000 });
    const played = await host.evaluate(async () => {
      const v = document.querySelector<HTMLVideoElement>('[data-testid=case-recording-video]')!;
      v.muted = true;
      await v.play();
      await new Promise((r) => setTimeout(r, 1500));
      return { duration: v.duration, time: v.currentTime, frames: v.getVideoPlaybackQuality().totalVideoFrames };
    });
    expect(played.duration).toBeGreaterThan(2.5);
    expect(played.frames).toBeGreaterThan(5);
    expect(played.time).toBeGreaterThan(0.5);
    // The screen was recorded as a track of its own (and has its own cell in the composed picture).
    const recId = await host.evaluate(() => document.querySelector<HTMLVideoElement>('[data-testid=case-recording-video]')!.src.split('/').at(-3)!);
    const rec = (await call(host, 'GET', `/api/recordings/${recId}`)).body as { files: Array<{ kind: string; participantName?: string }> };
    expect(rec.files.filter((f) => f.kind === 'track').map((f) => f.participantName ?? '').filter((n) => n.endsWith('(screen)'))).toHaveLength(1);
    expect(rec.files.filter((f) => f.kind === 'track')).toHaveLength(3);
    await host.click('[data-testid=case-verify]');
    expect(await (await host.waitForSelector('[data-testid=case-verdict]')).getAttribute('data-ok')).toBe('true');
    const pdf = await host.evaluate(async () => {
      const a = document.querySelector<HTMLAnchorElement>('[data-testid=case-pdf]')!;
      const res = await fetch(a.href);
      return { status: res.status, head: new TextDecoder().decode((await res.arrayBuffer()).slice(0, 5)) };
    });
    expect(pdf).toEqual({ status: 200, head: '%PDF-' });
  }, 180_000);
});
