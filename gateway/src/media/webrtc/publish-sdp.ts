// SDP for a browser that sends (WHIP, RFC 9725's sibling: a participant's camera and microphone into a room): the
// offer's send sections read into mediasoup producer parameters (one codec the room's router takes, its RTX, the
// SSRCs, the header extensions mediasoup reads), and the answer written. The offer is untrusted input: sizes, counts
// and every value used are checked, and an error names the section at fault.
import sdpTransform from 'sdp-transform';
import type { SessionDescription } from 'sdp-transform';
import type * as ms from 'mediasoup/node/lib/types.js';
import { candidatesOf, checkFingerprints, fmtpOf, readOffer, SdpError } from './whep-sdp.js';

const TOKEN = /^[\x21-\x7e]{1,256}$/;
const MAX_SECTIONS = 4;

/** HEADER_EXTENSIONS are the RTP header extensions a producer keeps (those mediasoup reads). */
const HEADER_EXTENSIONS = new Set([
  'urn:ietf:params:rtp-hdrext:sdes:mid', 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01', 'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'urn:3gpp:video-orientation', 'urn:ietf:params:rtp-hdrext:toffset',
  // Simulcast: which layer (rid) a packet belongs to, and its retransmissions'.
  'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id', 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
]);
/** RID names a simulcast layer; MAX_LAYERS bounds them. */
const RID = /^[A-Za-z0-9_-]{1,16}$/;
const MAX_LAYERS = 3;

/** layersOf reads a section's simulcast (a=simulcast:send with its a=rid lines): the layers' rids, lowest first as sent. */
function layersOf(m: SessionDescription['media'][number], where: string): string[] {
  if (!m.simulcast) return [];
  const sim = m.simulcast as { dir1?: string; list1?: string };
  if (sim.dir1 !== 'send' || typeof sim.list1 !== 'string') throw new SdpError(`${where}: a=simulcast must say send and its layers`);
  const declared = new Set((m.rids ?? []).filter((r) => r.direction === 'send').map((r) => String(r.id)));
  const rids = sim.list1.split(';').map((alt) => alt.split(',')[0]!.replace(/^~/, ''));
  if (rids.length > MAX_LAYERS) throw new SdpError(`${where}: ${rids.length} simulcast layers, at most ${MAX_LAYERS}`);
  for (const r of rids) if (!RID.test(r) || !declared.has(r)) throw new SdpError(`${where}: simulcast layer "${r.slice(0, 20)}" has no a=rid:${r.slice(0, 20)} send`);
  if (new Set(rids).size !== rids.length) throw new SdpError(`${where}: a simulcast layer is named twice`);
  return rids;
}

/** PublishSection is one sending m-section, ready to produce. */
export interface PublishSection {
  mid: string;
  kind: 'audio' | 'video';
  rtpParameters: ms.RtpParameters;
  /** layers are the simulcast layers' rids (lowest first), or empty for one stream. */
  layers: string[];
}

/** ParsedPublish is what a sending offer says. */
export interface ParsedPublish {
  /** all are every m-section in order (the answer names each); sections those that send and can be produced. */
  all: Array<{ mid: string; type: string }>;
  sections: PublishSection[];
  dtlsParameters: ms.DtlsParameters;
}

/** matches says whether an offered codec is one of the router's (H.264 in the same profile and packetization). */
function matches(name: string, rate: number, params: Record<string, string | number>, c: ms.RtpCodecCapability): boolean {
  if (c.mimeType.toLowerCase() !== `${c.kind}/${name}`.toLowerCase() || c.clockRate !== rate) return false;
  if (name.toUpperCase() !== 'H264') return true;
  const want = c.parameters ?? {};
  const profile = (v: unknown) => String(v ?? '42e01f').slice(0, 4).toLowerCase();
  return Number(params['packetization-mode'] ?? 0) === Number(want['packetization-mode'] ?? 0) && profile(params['profile-level-id']) === profile(want['profile-level-id']);
}

/**
 * parsePublish reads a browser's sending offer against the router's codecs: each sending section gets the first of
 * its codecs the router takes, with that codec's RTX; it throws SdpError naming what is wrong.
 */
export function parsePublish(text: string, router: ms.RtpCapabilities): ParsedPublish {
  const sdp = readOffer(text);
  const media = sdp.media ?? [];
  if (media.length === 0 || media.length > MAX_SECTIONS) throw new SdpError(`the offer has ${media.length} media sections: one to ${MAX_SECTIONS} (camera, microphone, screen)`);
  const fingerprints: ms.DtlsFingerprint[] = [];
  if (sdp.fingerprint) fingerprints.push({ algorithm: sdp.fingerprint.type, value: sdp.fingerprint.hash });
  let setup = sdp.setup;
  const all: ParsedPublish['all'] = [];
  const sections: PublishSection[] = [];
  media.forEach((m, i) => {
    const where = `media section ${i + 1} (m=${m.type})`;
    const mid = m.mid === undefined ? undefined : String(m.mid);
    if (mid === undefined || !TOKEN.test(mid) || mid.length > 32) throw new SdpError(`${where} has no usable a=mid`);
    all.push({ mid, type: m.type });
    if (m.fingerprint) fingerprints.push({ algorithm: m.fingerprint.type, value: m.fingerprint.hash });
    setup ??= m.setup;
    const direction = m.direction ?? sdp.direction ?? 'sendrecv';
    if ((m.type !== 'audio' && m.type !== 'video') || m.port === 0 || (direction !== 'sendonly' && direction !== 'sendrecv')) return;
    const kind = m.type;
    const rtp = (m.rtp ?? []).slice(0, 64);
    const chosen = rtp.find((r) => Number.isInteger(r.payload) && r.payload >= 0 && r.payload <= 127 && TOKEN.test(r.codec) && r.codec.toLowerCase() !== 'rtx'
      && (router.codecs ?? []).some((c) => c.kind === kind && matches(r.codec, r.rate ?? 0, fmtpOf(m, r.payload), c)));
    if (!chosen) throw new SdpError(`${where}: none of its codecs is one the room takes (${(router.codecs ?? []).filter((c) => c.kind === kind && !c.mimeType.endsWith('/rtx')).map((c) => c.mimeType).join(', ')})`);
    const pt = chosen.payload;
    const rtx = rtp.find((r) => r.codec.toLowerCase() === 'rtx' && Number(fmtpOf(m, r.payload).apt) === pt);
    const feedback = (p: number) => (m.rtcpFb ?? []).filter((f) => String(f.payload) === String(p) || String(f.payload) === '*').map((f) => ({ type: f.type, parameter: f.subtype ?? '' }));
    const codecs: ms.RtpCodecParameters[] = [{
      mimeType: `${kind}/${chosen.codec}`, payloadType: pt, clockRate: chosen.rate!, parameters: fmtpOf(m, pt), rtcpFeedback: feedback(pt),
      ...(kind === 'audio' ? { channels: Number(chosen.encoding) > 0 ? Number(chosen.encoding) : 1 } : {}),
    }];
    if (rtx) codecs.push({ mimeType: `${kind}/rtx`, payloadType: rtx.payload, clockRate: rtx.rate ?? chosen.rate!, parameters: { apt: pt }, rtcpFeedback: [] });
    // Simulcast layers are known by their rids; one stream by its SSRC (the first a=ssrc, its RTX from the FID group).
    const layers = kind === 'video' ? layersOf(m, where) : [];
    const ssrcs = (m.ssrcs ?? []).filter((s) => Number.isInteger(Number(s.id)));
    const fid = (m.ssrcGroups ?? []).find((g) => g.semantics === 'FID')?.ssrcs.split(' ').map(Number);
    const ssrc = fid?.[0] ?? Number(ssrcs[0]?.id);
    let encodings: ms.RtpEncodingParameters[];
    if (layers.length > 0) {
      encodings = layers.map((rid) => ({ rid }));
    } else {
      if (!Number.isInteger(ssrc) || ssrc <= 0 || ssrc > 0xffffffff) throw new SdpError(`${where} names no a=ssrc to receive`);
      encodings = [{ ssrc, ...(rtx && fid?.[1] ? { rtx: { ssrc: fid[1] } } : {}) }];
    }
    const cname = ssrcs.find((s) => s.attribute === 'cname')?.value;
    const headerExtensions = (m.ext ?? []).filter((e) => Number.isInteger(e.value) && e.value >= 1 && e.value <= 14 && HEADER_EXTENSIONS.has(e.uri))
      .map((e) => ({ uri: e.uri as ms.RtpHeaderExtensionParameters['uri'], id: e.value, encrypt: false, parameters: {} }));
    sections.push({ mid, kind, layers, rtpParameters: { mid, codecs, headerExtensions, encodings, rtcp: { cname: cname && TOKEN.test(cname) ? cname : `p${mid}`, reducedSize: true } } });
  });
  if (sections.length === 0) throw new SdpError('the offer sends nothing (no a=sendonly or a=sendrecv audio or video section)');
  checkFingerprints(fingerprints);
  return { all, sections, dtlsParameters: { role: setup === 'passive' ? 'server' : 'client', fingerprints } };
}

/** writePublishAnswer answers a sending offer: each produced section received (recvonly), the others rejected. */
export function writePublishAnswer(offer: ParsedPublish, transport: { iceParameters: ms.IceParameters; iceCandidates: ms.IceCandidate[]; dtlsParameters: ms.DtlsParameters }, produced: string[]): string {
  const fingerprint = transport.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256') ?? transport.dtlsParameters.fingerprints[0]!;
  const first = transport.iceCandidates[0];
  const candidates = candidatesOf(transport.iceCandidates);
  const session: SessionDescription = {
    version: 0, origin: { username: '-', sessionId: Date.now(), sessionVersion: 1, netType: 'IN', ipVer: 4, address: '0.0.0.0' }, name: '-',
    timing: { start: 0, stop: 0 }, icelite: 'ice-lite', fingerprint: { type: fingerprint.algorithm, hash: fingerprint.value },
    groups: produced.length ? [{ type: 'BUNDLE', mids: produced.join(' ') }] : [], media: [],
  };
  for (const s of offer.all) {
    const p = offer.sections.find((x) => x.mid === s.mid);
    if (!p || !produced.includes(s.mid)) {
      session.media.push({ type: s.type, port: 0, protocol: 'UDP/TLS/RTP/SAVPF', payloads: s.type === 'application' ? 'webrtc-datachannel' : '0', mid: s.mid, direction: 'inactive', rtp: [], fmtp: [] });
      continue;
    }
    const rp = p.rtpParameters;
    const m: SessionDescription['media'][number] = {
      type: p.kind, port: first?.port ?? 9, protocol: 'UDP/TLS/RTP/SAVPF', payloads: rp.codecs.map((c) => c.payloadType).join(' '),
      connection: { version: 4, ip: first?.ip ?? '0.0.0.0' }, mid: s.mid, direction: 'recvonly', rtcpMux: 'rtcp-mux', rtcpRsize: 'rtcp-rsize',
      iceUfrag: transport.iceParameters.usernameFragment, icePwd: transport.iceParameters.password,
      setup: offer.dtlsParameters.role === 'client' ? 'passive' : 'active', candidates, endOfCandidates: 'end-of-candidates',
      rtp: [], fmtp: [], rtcpFb: [], ext: (rp.headerExtensions ?? []).map((e) => ({ value: e.id, uri: e.uri })),
      // Simulcast taken: each layer received.
      ...(p.layers.length > 0 ? { rids: p.layers.map((id) => ({ id, direction: 'recv' })), simulcast: { dir1: 'recv', list1: p.layers.join(';') } } : {}),
    };
    for (const c of rp.codecs) {
      m.rtp.push({ payload: c.payloadType, codec: c.mimeType.split('/')[1]!, rate: c.clockRate, ...(c.channels && c.channels > 1 ? { encoding: c.channels } : {}) });
      const params = Object.entries(c.parameters ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(';');
      if (params) m.fmtp.push({ payload: c.payloadType, config: params });
      for (const fb of c.rtcpFeedback ?? []) m.rtcpFb!.push({ payload: String(c.payloadType), type: fb.type, ...(fb.parameter ? { subtype: fb.parameter } : {}) });
    }
    session.media.push(m);
  }
  return sdpTransform.write(session);
}
