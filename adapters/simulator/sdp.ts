// The SDP (RFC 4566, RFC 6184 fmtp) a simulated camera answers DESCRIBE with.
import type { Clip } from './clip.js';

/** PAYLOAD_TYPE is the dynamic RTP payload type of the H.264 track. */
export const PAYLOAD_TYPE = 96;

/** AUDIO_PAYLOAD_TYPE are the payload types the audio tracks are sent with. */
export const AUDIO_PAYLOAD_TYPE = { PCMA: 8, PCMU: 0, AAC: 97 } as const;

/** AUDIO_SDP are the audio tracks Chinese cameras commonly offer: G.711 at 8 kHz, or AAC-LC (RFC 3640) at 16 kHz. */
const AUDIO_SDP: Record<'pcma' | 'pcmu' | 'aac', string[]> = {
  pcma: ['m=audio 0 RTP/AVP 8', 'a=rtpmap:8 PCMA/8000'],
  pcmu: ['m=audio 0 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000'],
  aac: ['m=audio 0 RTP/AVP 97', 'a=rtpmap:97 MPEG4-GENERIC/16000/1', 'a=fmtp:97 streamtype=5;profile-level-id=15;mode=AAC-hbr;config=1408;sizelength=13;indexlength=3;indexdeltalength=3'],
};

/** describeSdp builds the session description of one camera profile, with an audio track when the camera has one. */
export function describeSdp(clip: Clip, opts: { host: string; sessionId: string; name: string; audio?: 'pcma' | 'pcmu' | 'aac'; says?: 'h264' | 'h265' }): string {
  const says = opts.says ?? (clip.codec === 'H265' ? 'h265' : 'h264');
  const b64 = (b: Buffer | undefined) => (b ?? Buffer.alloc(0)).toString('base64');
  const video = says === 'h265'
    ? [`a=rtpmap:${PAYLOAD_TYPE} H265/90000`, `a=fmtp:${PAYLOAD_TYPE} sprop-vps=${b64(clip.vps ?? clip.sps)};sprop-sps=${b64(clip.sps)};sprop-pps=${b64(clip.pps)}`]
    : [`a=rtpmap:${PAYLOAD_TYPE} H264/90000`, `a=fmtp:${PAYLOAD_TYPE} packetization-mode=1;profile-level-id=${clip.profileLevelId || '42e01f'};sprop-parameter-sets=${b64(clip.sps)},${b64(clip.pps)}`];
  return [
    'v=0',
    `o=- ${opts.sessionId} 1 IN IP4 ${opts.host}`,
    `s=${opts.name}`,
    'c=IN IP4 0.0.0.0',
    't=0 0',
    'a=control:*',
    'a=range:npt=now-',
    `m=video 0 RTP/AVP ${PAYLOAD_TYPE}`,
    `b=AS:${Math.ceil(clip.bitrate / 1000)}`,
    ...video,
    `a=framerate:${clip.fps}`,
    'a=recvonly',
    'a=control:trackID=0',
    ...(opts.audio ? [...AUDIO_SDP[opts.audio], 'a=recvonly', 'a=control:trackID=1'] : []),
    '',
  ].join('\r\n');
}
