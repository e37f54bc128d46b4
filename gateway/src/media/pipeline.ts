// The contract every media pipeline keeps: start, stop, typed events, stats. Routes never see a process.

/** ExitKind classifies why a pipeline ended, so a state and a message can say it in words. */
export type ExitKind = 'stopped' | 'offline' | 'unauthorized' | 'not-found' | 'stalled' | 'unsupported' | 'failed';

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

/** classifyFfmpegError maps ffmpeg's last words to an exit kind and a message a person understands. */
export function classifyFfmpegError(lines: string[]): PipelineExit {
  const text = lines.join('\n');
  const last = lines.filter((l) => l.trim()).slice(-1)[0]?.trim() ?? 'ffmpeg exited';
  if (/401 Unauthorized|authorization failed/i.test(text)) return { kind: 'unauthorized', message: 'the camera rejected the stored credentials (401 Unauthorized)' };
  if (/404 Not Found|Stream not found/i.test(text)) return { kind: 'not-found', message: 'the camera has no such stream (404 Not Found)' };
  if (/Connection refused|No route to host|Network is unreachable|Connection timed out|Connection reset|Invalid data found when processing input|End of file|Host is unreachable|Name or service not known|Operation timed out/i.test(text)) {
    return { kind: 'offline', message: `the camera does not answer (${last.replace(/^.*?: /, '')})` };
  }
  if (/Unsupported codec|could not find codec parameters|Codec .* is not supported/i.test(text)) return { kind: 'unsupported', message: `the stream cannot be remuxed: ${last}` };
  return { kind: 'failed', message: last };
}
