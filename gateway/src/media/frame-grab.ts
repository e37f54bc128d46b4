// A snapshot of a camera without ONVIF: the gateway's RTSP session pulls its stream, ffmpeg decodes the first picture
// from the loopback relay (never the camera's address or credentials) and writes it as a JPEG.
import { spawn } from 'node:child_process';
import { DeviceError } from '../../../adapters/core/device-error.js';
import { redactUrl, type StreamSourceSpec } from '../../../adapters/core/types.js';
import { CameraInputError, openCameraInput } from './camera-input.js';

/** MAX_FRAME_BYTES bounds the JPEG read from ffmpeg. */
const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** grabFrame returns one JPEG of a camera stream; it waits for a key frame (up to a GOP), within timeoutMs in all. */
export async function grabFrame(ffmpegPath: string, source: StreamSourceSpec, timeoutMs: number): Promise<Buffer> {
  const started = Date.now();
  const fail = (detail: string) => new DeviceError(`snapshot of ${redactUrl(source.url)} failed: ${detail}`, `snapshot failed: ${detail}`);
  let input;
  try {
    input = await openCameraInput(source, { timeoutMs: Math.min(timeoutMs, 5000) });
  } catch (err) {
    if (err instanceof CameraInputError) throw fail(err.exit.message);
    throw err;
  }
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const child = spawn(ffmpegPath, [
        '-hide_banner', '-loglevel', 'error', '-nostdin', '-protocol_whitelist', 'pipe,udp,rtp', '-f', 'sdp', '-i', 'pipe:0',
        '-frames:v', '1', '-q:v', '4', '-f', 'mjpeg', 'pipe:1',
      ], { stdio: ['pipe', 'pipe', 'pipe'] });
      child.stdin.end(input.relay.sdp);
      void input.relay.flushWhenListening(timeoutMs);
      const chunks: Buffer[] = [];
      let size = 0;
      const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(500, timeoutMs - (Date.now() - started)));
      child.stdout.on('data', (d: Buffer) => {
        size += d.length;
        if (size > MAX_FRAME_BYTES) child.kill('SIGKILL');
        else chunks.push(d);
      });
      // ffmpeg's words stay here: they are not for the viewer, and the relay gives it no address to say anyway.
      child.stderr.resume();
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(fail(`cannot run ${ffmpegPath} (${(err as NodeJS.ErrnoException).code ?? err.message})`));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const jpeg = Buffer.concat(chunks);
        if (code === 0 && jpeg[0] === 0xff && jpeg[1] === 0xd8) return resolve(jpeg);
        const sending = input.session.packets > 0;
        reject(fail(signal ? (sending ? `no picture could be decoded within ${timeoutMs} ms` : `no video within ${timeoutMs} ms`) : `the picture could not be decoded (ffmpeg exit ${code})`));
      });
    });
  } finally {
    await input.close();
  }
}
