// The SDP (RFC 4566, RFC 6184 fmtp) a simulated camera answers DESCRIBE with.
import type { Clip } from './clip.js';

/** PAYLOAD_TYPE is the dynamic RTP payload type of the H.264 track. */
export const PAYLOAD_TYPE = 96;

/** describeSdp builds the session description of one camera profile. */
export function describeSdp(clip: Clip, opts: { host: string; sessionId: string; name: string }): string {
  const sprop = `${clip.sps.toString('base64')},${clip.pps.toString('base64')}`;
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
    `a=rtpmap:${PAYLOAD_TYPE} H264/90000`,
    `a=fmtp:${PAYLOAD_TYPE} packetization-mode=1;profile-level-id=${clip.profileLevelId};sprop-parameter-sets=${sprop}`,
    `a=framerate:${clip.fps}`,
    'a=recvonly',
    'a=control:trackID=0',
    '',
  ].join('\r\n');
}
