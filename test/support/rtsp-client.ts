// A small RTSP client over one TCP connection, for methods ffmpeg does not exercise and for load without ffmpeg.
import { connect, type Socket } from 'node:net';
import { digestResponse, parseAuthParams } from '../../adapters/simulator/digest.js';

/** RtspClient speaks RTSP over one connection, for methods ffmpeg does not exercise. */
export class RtspClient {
  #socket: Socket;
  #buf = Buffer.alloc(0);
  #cseq = 0;
  interleaved = 0;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (d) => { this.#buf = Buffer.concat([this.#buf, d]); });
  }

  static open(port: number): Promise<RtspClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new RtspClient(s)));
      s.once('error', reject);
    });
  }

  async request(method: string, uri: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    const lines = [`${method} ${uri} RTSP/1.0`, `CSeq: ${++this.#cseq}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    this.#socket.write(lines.join('\r\n') + '\r\n\r\n');
    for (let i = 0; i < 200; i++) {
      // Skip interleaved RTP frames that arrive between answers.
      while (this.#buf[0] === 0x24 && this.#buf.length >= 4 && this.#buf.length >= 4 + this.#buf.readUInt16BE(2)) {
        this.interleaved++;
        this.#buf = this.#buf.subarray(4 + this.#buf.readUInt16BE(2));
      }
      const end = this.#buf.indexOf('\r\n\r\n');
      if (this.#buf[0] !== 0x24 && end >= 0) {
        const head = this.#buf.subarray(0, end).toString().split('\r\n');
        const h: Record<string, string> = {};
        for (const l of head.slice(1)) h[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
        const len = Number(h['content-length'] ?? 0);
        if (this.#buf.length >= end + 4 + len) {
          const body = this.#buf.subarray(end + 4, end + 4 + len).toString();
          this.#buf = this.#buf.subarray(end + 4 + len);
          return { status: Number(head[0]!.split(' ')[1]), headers: h, body };
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no answer to ${method}`);
  }

  /** discard stops parsing and only counts received bytes from now on. */
  discard(): void {
    this.#socket.removeAllListeners('data');
    this.#socket.on('data', (d: Buffer) => { this.received += d.length; });
  }

  received = 0;

  close(): void {
    this.#socket.destroy();
  }
}

/** playInterleaved opens a session that receives RTP over TCP and only counts bytes (a cheap viewer for load tests). */
export async function playInterleaved(port: number, path: string, username: string, password: string): Promise<RtspClient> {
  const c = await RtspClient.open(port);
  const uri = `rtsp://127.0.0.1:${port}${path}`;
  const challenge = await c.request('DESCRIBE', uri);
  const { realm, nonce } = parseAuthParams(challenge.headers['www-authenticate']!.slice(7));
  const auth = (method: string, u: string) => ({ Authorization: digestResponse({ username, password, realm: realm!, nonce: nonce!, method, uri: u }) });
  const track = `${uri}/trackID=0`;
  const setup = await c.request('SETUP', track, { ...auth('SETUP', track), Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
  if (setup.status !== 200) throw new Error(`SETUP ${path} answered ${setup.status}`);
  const session = setup.headers.session!.split(';')[0]!;
  const play = await c.request('PLAY', uri, { ...auth('PLAY', uri), Session: session });
  if (play.status !== 200) throw new Error(`PLAY ${path} answered ${play.status}`);
  c.discard();
  return c;
}
