// The SDPs real cameras published (test/fixtures/sdp) through the media core: the tracks it plays, the codec
// parameters it takes from them, and what it waits for when a camera gives none or lies.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { controlUrl, parseSessionDescription } from '../../../../adapters/rtsp/sdp.js';
import type { VideoParams } from '../../../../gateway/src/media/core/access-unit.js';
import { audioDepacketizer } from '../../../../gateway/src/media/core/audio-depacketizer.js';
import { selectTracks } from '../../../../gateway/src/media/core/core-pipeline.js';
import { hlsTrackInfo } from '../../../../gateway/src/media/core/ll-hls.js';
import { videoDepacketizer } from '../../../../gateway/src/media/core/video-depacketizer.js';
import { ROOT } from '../../../support/harness.js';

const read = (name: string) => parseSessionDescription(readFileSync(join(ROOT, 'test/fixtures/sdp', name), 'utf8'));

/** videoParams returns what the video depacketizer takes from the SDP (undefined: it waits for the stream's own). */
function videoParams(sdp: ReturnType<typeof read>): VideoParams | undefined {
  const video = selectTracks(sdp.media).find((m) => m.kind === 'video')!;
  let params: VideoParams | undefined;
  videoDepacketizer(video, { params: (p) => { params = p; }, picture: () => undefined });
  return params;
}

describe('SDPs of real cameras', () => {
  it('Dahua IPC: H.264 1080p from sprop-parameter-sets, and its A-law audio kept for WebRTC', () => {
    const sdp = read('dahua-ipc-h264-pcma.sdp');
    const tracks = selectTracks(sdp.media);
    expect(tracks.map((t) => t.codec)).toEqual(['H264', 'PCMA']);
    expect(videoParams(sdp)).toMatchObject({ codec: 'H264', width: 1920, height: 1080, codecString: 'avc1.4d4028' });
    const audio = audioDepacketizer(tracks[1]!, { frame: () => undefined })!;
    expect(audio.params).toMatchObject({ codec: 'PCMA', clockRate: 8000 });
    expect(hlsTrackInfo([videoParams(sdp)!, audio.params])[1]).toMatchObject({ carried: false, note: expect.stringMatching(/WebRTC carries it/) });
    expect(controlUrl('rtsp://cam/cam/realmonitor?channel=1&subtype=0/', tracks[0]!.control)).toBe('rtsp://cam/cam/realmonitor?channel=1&subtype=0/trackID=0');
  });

  it('Hikvision IPC: the size its SPS says is the size its x-dimensions line says, spaces in the fmtp notwithstanding', () => {
    const sdp = read('hikvision-ipc-h264-live.sdp');
    expect(videoParams(sdp)).toMatchObject({ codec: 'H264', width: 1920, height: 1080, fps: 25 });
    expect(sdp.media[0]!.lines).toContain('a=x-dimensions:1920,1080');
  });

  it('Hikvision NVR playback: no parameter sets in the SDP (the stream brings them), AAC clocked at 32 kHz for 16 kHz audio', () => {
    const sdp = read('hikvision-nvr-playback-h264-aac.sdp');
    expect(videoParams(sdp)).toBeUndefined();
    const aac = audioDepacketizer(selectTracks(sdp.media)[1]!, { frame: () => undefined })!;
    expect(aac.params).toMatchObject({ codec: 'AAC', sampleRate: 16000, clockRate: 32000, channels: 1, codecString: 'mp4a.40.2' });
  });

  it('Ezviz C6N: an H265 rtpmap over an H.264 fmtp gives no parameters; the core waits for the stream to tell', () => {
    const sdp = read('ezviz-c6n-h265-wrong-fmtp.sdp');
    expect(sdp.media[0]!.codec).toBe('H265');
    expect(videoParams(sdp)).toBeUndefined();
    expect(sdp.media[0]!.control).toBe('rtsp://192.168.1.58:554/h264_stream/trackID=1');
  });

  it('Reolink RLC-811: H.265 Main 4K from sprop-vps/sps/pps', () => {
    expect(videoParams(read('reolink-rlc811-h265-main.sdp'))).toMatchObject({ codec: 'H265', width: 3840, height: 2160, codecString: 'hvc1.1.6.L150', reorder: 0 });
  });

  it('Uniarch (Uniview): a loose SDP still read, its metadata track left aside, µ-law audio by its static payload type', () => {
    const sdp = read('uniarch-uho-s2e-h264-pcmu-metadata.sdp');
    const tracks = selectTracks(sdp.media);
    expect(tracks.map((t) => t.codec)).toEqual(['H264', 'PCMU']);
    expect(sdp.media.map((m) => m.kind)).toEqual(['video', 'audio', 'application']);
    expect(videoParams(sdp)).toMatchObject({ codec: 'H264', width: 640, height: 360, fps: 20 });
    expect(controlUrl('rtsp://192.168.1.9:554/media/video2/', tracks[0]!.control)).toBe('rtsp://1.0.1.113/media/video2/video');
    expect(audioDepacketizer(tracks[1]!, { frame: () => undefined })!.params).toMatchObject({ codec: 'PCMU', clockRate: 8000 });
  });
});
