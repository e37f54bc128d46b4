// The contract every media pipeline keeps: start, stop, typed events, stats. Routes never see a process.
import type { TrackInfo } from './camera-input.js';

/** ExitKind classifies why a pipeline ended, so a state and a message can say it in words. */
export type ExitKind = 'stopped' | 'offline' | 'unauthorized' | 'not-found' | 'refused' | 'stalled' | 'unsupported' | 'failed';

/** PipelineExit is how a pipeline ended. */
export interface PipelineExit {
  kind: ExitKind;
  message: string;
}

/** PipelineStats are live figures of a pipeline. */
export interface PipelineStats {
  pid?: number;
  frames: number;
  /** fps is the frame rate ffmpeg last reported (an HLS output has no bitrate figure). */
  fps?: number;
  lastProgressAt?: number;
  /** transport is how the camera's RTP arrives. */
  transport?: 'tcp' | 'udp';
  /** tracks say what the camera sends and what of it is carried. */
  tracks?: TrackInfo[];
  /** packets counts the RTP packets received from the camera. */
  packets?: number;
}

/** PipelineEvents are emitted by every pipeline. */
export interface PipelineEvents {
  live: [];
  exit: [PipelineExit];
}

/** Pipeline turns one source into one output. */
export interface Pipeline {
  start(): void;
  /** stop ends the pipeline; it is idempotent and resolves once the process is gone. */
  stop(): Promise<void>;
  stats(): PipelineStats;
  on<E extends keyof PipelineEvents>(event: E, listener: (...args: PipelineEvents[E]) => void): this;
}

/**
 * classifyFfmpegError maps ffmpeg's last words to an exit kind and a message a person understands. ffmpeg reads only
 * the gateway's local relay, so what it can fail at is the stream's content: the message is one of fixed sentences,
 * never ffmpeg's own line (which goes to the log).
 */
export function classifyFfmpegError(lines: string[], code?: number | null): PipelineExit {
  const text = lines.join('\n');
  if (/Could not find codec parameters|unspecified size|no frame!|decoding for stream .* failed/i.test(text)) {
    return { kind: 'unsupported', message: 'no decodable picture arrived: the stream lacks its codec parameters (SPS/PPS)' };
  }
  if (/non[- ]monoton|Non-monotonous DTS|Invalid DTS|pts \(\d+\) < dts|Application provided invalid/i.test(text)) {
    return { kind: 'unsupported', message: "the stream's timestamps go back and cannot be remuxed as they come" };
  }
  if (/bind failed|Address already in use/i.test(text)) return { kind: 'failed', message: 'a local port of the relay was taken: retrying' };
  if (/Invalid data found when processing input/i.test(text)) return { kind: 'unsupported', message: 'the remuxer cannot read the video the camera sends' };
  if (/Unsupported codec|Codec .* is not supported|codec not currently supported/i.test(text)) return { kind: 'unsupported', message: 'the camera sends a codec the remuxer cannot carry' };
  if (/No space left|Read-only file system|Permission denied/i.test(text)) return { kind: 'failed', message: 'the gateway cannot write its live segments (disk full or not writable)' };
  return { kind: 'failed', message: `the remuxer stopped${code !== undefined && code !== null ? ` (ffmpeg exited with code ${code})` : ''}` };
}
