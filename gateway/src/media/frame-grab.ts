// A snapshot of a camera without ONVIF: ffmpeg reads its stream until the first picture and writes it as a JPEG.
import { spawn } from 'node:child_process';
import { redactUrl, withCredentials, type SourceCredentials } from '../../../adapters/core/types.js';
import { DeviceError } from '../../../adapters/core/device-error.js';

/** MAX_FRAME_BYTES bounds the JPEG read from ffmpeg. */
const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** grabFrame returns one JPEG of an RTSP stream; it waits for a key frame (up to a GOP). */
export function grabFrame(ffmpegPath: string, url: string, credentials: SourceCredentials | undefined, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath, [
      '-hide_banner', '-loglevel', 'error', '-nostdin', '-rtsp_transport', 'tcp', '-timeout', String(timeoutMs * 1000),
      '-i', withCredentials(url, credentials), '-frames:v', '1', '-q:v', '4', '-f', 'mjpeg', 'pipe:1',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_FRAME_BYTES) child.kill('SIGKILL');
      else chunks.push(d);
    });
    child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${ffmpegPath}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const jpeg = Buffer.concat(chunks);
      if (code === 0 && jpeg[0] === 0xff && jpeg[1] === 0xd8) return resolve(jpeg);
      // ffmpeg's message may quote the URL: it never leaves this function.
      const reason = signal ? `no picture within ${timeoutMs} ms` : (stderr.split('\n').find((l) => l.trim()) ?? `ffmpeg exit ${code}`).replace(/rtsps?:\/\/\S+/g, '<camera>');
      reject(new DeviceError(`snapshot of ${redactUrl(url)} failed: ${reason}`, `snapshot failed: ${reason}`));
    });
  });
}
