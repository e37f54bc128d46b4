// Which of a browser's offered codecs a stream is sent as, with the browser's own payload types. The camera's codec
// is not changed here (H.265 for a browser without it goes through the transcoder first).
import type * as ms from 'mediasoup/node/lib/types.js';
import type { AudioParams, VideoParams } from '../core/access-unit.js';

/** PRODUCER_VIDEO_PT is the payload type of the gateway's own producers (mediasoup maps it to the router's). */
const PRODUCER_VIDEO_PT = 96;
const FEEDBACK: ms.RtcpFeedback[] = [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }];

/** CodecChoice is the router's codecs (the browser's payload types) and the producers' for the same media. */
export interface CodecChoice {
  routerCodecs: ms.RtpCodecCapability[];
  video: ms.RtpCodecParameters;
  audio?: ms.RtpCodecParameters;
  /** opus says the stream's AAC is to be sent as Opus (made while the feed exists). */
  opus?: boolean;
}

/**
 * H264_RANK orders the H.264 profiles a browser offers. The stream is announced as the first the browser lists of
 * these, at the camera's level, whatever profile the camera encodes: browsers' WebRTC receivers list Baseline, Main
 * and Constrained High profile ids and decode High-profile streams under them (Chromium's software decoder is
 * FFmpeg's, which takes every 8-bit 4:2:0 profile). B-frames are not reordered (cameras' live profiles have none).
 */
const H264_RANK = ['42e0', '4200', '4d00', '6400', 'f400'];

function h264Rank(c: ms.RtpCodecCapability): number {
  const id = String(c.parameters?.['profile-level-id'] ?? '42001f').toLowerCase();
  const r = H264_RANK.indexOf(id.slice(0, 4));
  return r < 0 ? H264_RANK.length : r;
}

/** chooseCodecs picks the offered codec for video (and audio, when sent as it is); undefined when none fits. */
export function chooseCodecs(offered: ms.RtpCodecCapability[], video: VideoParams, audio?: AudioParams): CodecChoice | undefined {
  const mime = video.codec === 'H265' ? 'video/h265' : 'video/h264';
  const candidates = offered.filter((c) => c.mimeType.toLowerCase() === mime && c.preferredPayloadType !== undefined
    && (video.codec === 'H265' || Number(c.parameters?.['packetization-mode'] ?? 0) === 1));
  if (candidates.length === 0) return undefined;
  const pick = video.codec === 'H265' ? candidates[0]! : [...candidates].sort((a, b) => h264Rank(a) - h264Rank(b))[0]!;
  let routerVideo: ms.RtpCodecCapability;
  let producerVideo: ms.RtpCodecParameters;
  if (video.codec === 'H265') {
    routerVideo = { kind: 'video', mimeType: 'video/H265', clockRate: 90000, preferredPayloadType: pick.preferredPayloadType, parameters: {} };
    producerVideo = { mimeType: 'video/H265', payloadType: PRODUCER_VIDEO_PT, clockRate: 90000, parameters: {}, rtcpFeedback: FEEDBACK };
  } else {
    const offeredId = String(pick.parameters?.['profile-level-id'] ?? '42001f').toLowerCase();
    const level = (video.sps[3] ?? 0x1f).toString(16).padStart(2, '0');
    routerVideo = {
      kind: 'video', mimeType: 'video/H264', clockRate: 90000, preferredPayloadType: pick.preferredPayloadType,
      parameters: { 'packetization-mode': 1, 'profile-level-id': offeredId, 'level-asymmetry-allowed': 1 },
    };
    producerVideo = {
      mimeType: 'video/H264', payloadType: PRODUCER_VIDEO_PT, clockRate: 90000,
      parameters: { 'packetization-mode': 1, 'profile-level-id': `${offeredId.slice(0, 4)}${level}`, 'level-asymmetry-allowed': 1 },
      rtcpFeedback: FEEDBACK,
    };
  }
  const choice: CodecChoice = { routerCodecs: [routerVideo], video: producerVideo };
  if (audio && (audio.codec === 'PCMA' || audio.codec === 'PCMU')) {
    const a = offered.find((c) => c.mimeType.toLowerCase() === `audio/${audio.codec.toLowerCase()}` && c.clockRate === 8000);
    if (a) {
      const pt = audio.codec === 'PCMA' ? 8 : 0;
      choice.routerCodecs.push({ kind: 'audio', mimeType: `audio/${audio.codec}`, clockRate: 8000, channels: 1, preferredPayloadType: a.preferredPayloadType ?? pt });
      choice.audio = { mimeType: `audio/${audio.codec}`, payloadType: pt, clockRate: 8000, channels: 1, parameters: {}, rtcpFeedback: [] };
    }
  }
  if (audio?.codec === 'AAC' && audio.config) {
    const o = offered.find((c) => c.mimeType.toLowerCase() === 'audio/opus' && c.clockRate === 48000);
    if (o) {
      choice.routerCodecs.push({ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, preferredPayloadType: o.preferredPayloadType, parameters: { useinbandfec: 1 } });
      choice.opus = true;
    }
  }
  return choice;
}
