// SDP for WHEP (RFC 9725): a browser's offer read into what mediasoup needs (RTP capabilities, DTLS fingerprints, the
// sections to answer), and the answer written from mediasoup's transport and consumers. mediasoup speaks no SDP; this
// is the one place that does. The offer is untrusted input: its size, its sections and every value used are checked,
// and an error names the line or attribute at fault.
import sdpTransform from 'sdp-transform';
import type { MediaAttributes, SessionDescription } from 'sdp-transform';
import type * as ms from 'mediasoup/node/lib/types.js';

/** SdpError says what is wrong with an offer, for a 400 answer. */
export class SdpError extends Error {
  override name = 'SdpError';
}

/** MAX_OFFER_BYTES bounds an offer (a browser's is 4-10 KB). */
export const MAX_OFFER_BYTES = 64 * 1024;
const MAX_SECTIONS = 16;
const MAX_CODECS = 64;

/** OfferSection is one m-section of the offer, as far as the answer needs it. */
export interface OfferSection {
  mid: string;
  kind: 'audio' | 'video' | 'application' | 'other';
  /** receives is true when the browser will take media on it (recvonly or sendrecv). */
  receives: boolean;
}

/** ParsedOffer is what an offer says. */
export interface ParsedOffer {
  sections: OfferSection[];
  rtpCapabilities: ms.RtpCapabilities;
  dtlsParameters: ms.DtlsParameters;
  /** iceUfrag and icePwd are the browser's ICE credentials (mediasoup, ICE-lite, checks them on its requests). */
  iceUfrag: string;
  /** codecNames lists the video codecs the browser decodes (H264, H265, VP8...), in upper case. */
  videoCodecs: Set<string>;
}

const TOKEN = /^[\x21-\x7e]{1,256}$/;

/** fmtpOf reads the a=fmtp parameters of one payload type of a section (bounded keys and values, numbers as numbers). */
export function fmtpOf(m: MediaAttributes, pt: number): Record<string, string | number> {
  const line = m.fmtp?.find((f) => f.payload === pt)?.config;
  if (!line) return {};
  const out: Record<string, string | number> = {};
  for (const part of line.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (!key || key.length > 64 || value.length > 512) continue;
    out[key] = /^\d{1,9}$/.test(value) ? Number(value) : value;
  }
  return out;
}

/** readOffer checks an offer's size and first line and parses it; it throws SdpError naming what is wrong. */
export function readOffer(text: string): SessionDescription {
  if (typeof text !== 'string' || text.length === 0) throw new SdpError('the offer is empty: send an SDP offer (application/sdp)');
  if (Buffer.byteLength(text) > MAX_OFFER_BYTES) throw new SdpError(`the offer is larger than ${MAX_OFFER_BYTES} bytes`);
  if (!text.startsWith('v=0')) throw new SdpError('the offer does not begin with "v=0": it is not an SDP');
  try {
    return sdpTransform.parse(text);
  } catch (err) {
    throw new SdpError(`the offer cannot be read: ${(err as Error).message}`);
  }
}

/** checkFingerprints refuses an offer without a usable DTLS fingerprint. */
export function checkFingerprints(fingerprints: ms.DtlsFingerprint[]): void {
  if (fingerprints.length === 0) throw new SdpError('the offer has no a=fingerprint: DTLS cannot be set up');
  for (const f of fingerprints) {
    if (!/^sha-(1|224|256|384|512)$/.test(f.algorithm) || !/^[0-9A-Fa-f:]{8,200}$/.test(f.value)) throw new SdpError('the offer has an unreadable a=fingerprint');
  }
}

/** candidatesOf writes a transport's ICE candidates as an answer's a=candidate lines. */
export function candidatesOf(iceCandidates: ms.IceCandidate[]): NonNullable<SessionDescription['media'][number]['candidates']> {
  return iceCandidates.map((c) => ({
    foundation: c.foundation, component: 1, transport: c.protocol, priority: c.priority, ip: c.ip, port: c.port, type: c.type,
    ...(c.tcpType ? { tcptype: c.tcpType } : {}),
  }));
}

/** parseOffer reads a WHEP offer; it throws SdpError naming what is wrong. */
export function parseOffer(text: string): ParsedOffer {
  const sdp = readOffer(text);
  const media = sdp.media ?? [];
  if (media.length === 0) throw new SdpError('the offer has no media section (m=)');
  if (media.length > MAX_SECTIONS) throw new SdpError(`the offer has ${media.length} media sections; at most ${MAX_SECTIONS} are read`);

  const codecs: ms.RtpCodecCapability[] = [];
  const extensions: ms.RtpHeaderExtension[] = [];
  const fingerprints: ms.DtlsFingerprint[] = [];
  const videoCodecs = new Set<string>();
  const sections: OfferSection[] = [];
  let setup: string | undefined = sdp.setup;
  let iceUfrag = sdp.iceUfrag;
  const seenPt = new Set<string>();
  if (sdp.fingerprint) fingerprints.push({ algorithm: sdp.fingerprint.type, value: sdp.fingerprint.hash });

  media.forEach((m, i) => {
    const where = `media section ${i + 1} (m=${m.type})`;
    const mid = m.mid === undefined ? undefined : String(m.mid);
    if (mid === undefined || !TOKEN.test(mid) || mid.length > 32) throw new SdpError(`${where} has no usable a=mid`);
    const kind = m.type === 'audio' || m.type === 'video' || m.type === 'application' ? m.type : 'other';
    const direction = m.direction ?? sdp.direction ?? 'sendrecv';
    sections.push({ mid, kind, receives: (kind === 'audio' || kind === 'video') && m.port !== 0 && (direction === 'recvonly' || direction === 'sendrecv') });
    if (m.fingerprint) fingerprints.push({ algorithm: m.fingerprint.type, value: m.fingerprint.hash });
    setup ??= m.setup;
    iceUfrag ??= m.iceUfrag;
    if (kind !== 'audio' && kind !== 'video') return;
    for (const rtp of m.rtp ?? []) {
      const pt = rtp.payload;
      if (!Number.isInteger(pt) || pt < 0 || pt > 127) throw new SdpError(`${where}: payload type ${String(pt)} is out of range`);
      if (!TOKEN.test(rtp.codec)) throw new SdpError(`${where}: payload type ${pt} has an unreadable codec name`);
      if (!Number.isInteger(rtp.rate) || rtp.rate! <= 0 || rtp.rate! > 1_000_000) throw new SdpError(`${where}: payload type ${pt} has no usable clock rate`);
      const key = `${kind}/${pt}`;
      if (seenPt.has(key)) continue;
      seenPt.add(key);
      if (codecs.length >= MAX_CODECS) throw new SdpError(`the offer lists more than ${MAX_CODECS} codecs`);
      const feedback = (m.rtcpFb ?? []).filter((f) => String(f.payload) === String(pt) || String(f.payload) === '*')
        .map((f) => ({ type: f.type, parameter: f.subtype ?? '' }));
      const codec: ms.RtpCodecCapability = {
        kind, mimeType: `${kind}/${rtp.codec}`, preferredPayloadType: pt, clockRate: rtp.rate!,
        parameters: fmtpOf(m, pt), rtcpFeedback: feedback,
      };
      if (kind === 'audio') codec.channels = Number(rtp.encoding) > 0 ? Number(rtp.encoding) : 1;
      if (kind === 'video') videoCodecs.add(rtp.codec.toUpperCase());
      codecs.push(codec);
    }
    for (const ext of m.ext ?? []) {
      if (!Number.isInteger(ext.value) || ext.value < 1 || ext.value > 14 || !TOKEN.test(ext.uri)) continue;
      if (extensions.some((e) => e.kind === kind && e.uri === ext.uri)) continue;
      extensions.push({ kind, uri: ext.uri, preferredId: ext.value, preferredEncrypt: false, direction: 'sendrecv' });
    }
  });
  if (!sections.some((s) => s.receives && s.kind === 'video')) {
    throw new SdpError('the offer has no video section that receives (a=recvonly or a=sendrecv)');
  }
  checkFingerprints(fingerprints);
  if (!iceUfrag || !TOKEN.test(iceUfrag)) throw new SdpError('the offer has no a=ice-ufrag');
  // The browser is the DTLS client unless it insists on being the server.
  const role: ms.DtlsRole = setup === 'passive' ? 'server' : 'client';
  return {
    sections, rtpCapabilities: { codecs, headerExtensions: extensions },
    dtlsParameters: { role, fingerprints }, iceUfrag, videoCodecs,
  };
}

/** AnswerTransport is what the answer needs of a WebRtcTransport. */
export interface AnswerTransport {
  iceParameters: ms.IceParameters;
  iceCandidates: ms.IceCandidate[];
  dtlsParameters: ms.DtlsParameters;
  /** remoteRole is the role given to the browser (the answer takes the other). */
  remoteRole: ms.DtlsRole;
}

/** AnswerConsumer is one consumer sending on one section of the offer. */
export interface AnswerConsumer {
  mid: string;
  kind: 'audio' | 'video';
  rtpParameters: ms.RtpParameters;
}

/** writeAnswer writes the SDP answer: every section of the offer, those without a consumer rejected (port 0). */
export function writeAnswer(offer: ParsedOffer, transport: AnswerTransport, consumers: AnswerConsumer[], cname: string, streamId: string): string {
  const accepted = offer.sections.filter((s) => consumers.some((c) => c.mid === s.mid)).map((s) => s.mid);
  const fingerprint = transport.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256') ?? transport.dtlsParameters.fingerprints[0]!;
  const first = transport.iceCandidates[0];
  const candidates = candidatesOf(transport.iceCandidates);
  const session: SessionDescription = {
    version: 0,
    origin: { username: '-', sessionId: Date.now(), sessionVersion: 1, netType: 'IN', ipVer: 4, address: '0.0.0.0' },
    name: '-',
    timing: { start: 0, stop: 0 },
    icelite: 'ice-lite',
    fingerprint: { type: fingerprint.algorithm, hash: fingerprint.value },
    groups: accepted.length ? [{ type: 'BUNDLE', mids: accepted.join(' ') }] : [],
    msidSemantic: { semantic: 'WMS', token: streamId },
    media: [],
  };
  for (const s of offer.sections) {
    const consumer = consumers.find((c) => c.mid === s.mid);
    const type = s.kind === 'other' ? 'application' : s.kind;
    if (!consumer) {
      session.media.push({ type, port: 0, protocol: 'UDP/TLS/RTP/SAVPF', payloads: type === 'application' ? 'webrtc-datachannel' : '0', mid: s.mid, direction: 'inactive', rtp: [], fmtp: [] });
      continue;
    }
    const p = consumer.rtpParameters;
    const encoding = p.encodings?.[0];
    const m: SessionDescription['media'][number] = {
      type: consumer.kind, port: first?.port ?? 9, protocol: 'UDP/TLS/RTP/SAVPF',
      payloads: p.codecs.map((c) => c.payloadType).join(' '),
      connection: { version: 4, ip: first?.ip ?? '0.0.0.0' },
      mid: s.mid, direction: 'sendonly', rtcpMux: 'rtcp-mux', rtcpRsize: 'rtcp-rsize',
      iceUfrag: transport.iceParameters.usernameFragment, icePwd: transport.iceParameters.password, iceOptions: 'renomination',
      setup: transport.remoteRole === 'client' ? 'passive' : 'active',
      candidates, endOfCandidates: 'end-of-candidates',
      rtp: [], fmtp: [], rtcpFb: [],
      ext: (p.headerExtensions ?? []).map((e) => ({ value: e.id, uri: e.uri })),
      msid: [{ id: streamId, appdata: `${consumer.kind}-${s.mid}` }],
      ssrcs: [],
      ssrcGroups: [],
    };
    for (const c of p.codecs) {
      const [, name] = c.mimeType.split('/');
      m.rtp.push({ payload: c.payloadType, codec: name!, rate: c.clockRate, ...(c.channels && c.channels > 1 ? { encoding: c.channels } : {}) });
      const params = Object.entries(c.parameters ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(';');
      if (params) m.fmtp.push({ payload: c.payloadType, config: params });
      for (const fb of c.rtcpFeedback ?? []) m.rtcpFb!.push({ payload: String(c.payloadType), type: fb.type, ...(fb.parameter ? { subtype: fb.parameter } : {}) });
    }
    if (encoding?.ssrc) {
      m.ssrcs!.push({ id: encoding.ssrc, attribute: 'cname', value: cname });
      m.ssrcs!.push({ id: encoding.ssrc, attribute: 'msid', value: `${streamId} ${consumer.kind}-${s.mid}` });
      if (encoding.rtx?.ssrc) {
        m.ssrcs!.push({ id: encoding.rtx.ssrc, attribute: 'cname', value: cname });
        m.ssrcGroups!.push({ semantics: 'FID', ssrcs: `${encoding.ssrc} ${encoding.rtx.ssrc}` });
      }
    }
    session.media.push(m);
  }
  return sdpTransform.write(session);
}
