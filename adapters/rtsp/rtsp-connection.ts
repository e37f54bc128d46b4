// One RTSP/1.0 client connection (RFC 2326): requests in order, answers framed and size-bounded.
import { connect, type Socket } from 'node:net';

/** RtspProtocolError says the peer's bytes are not a well-formed RTSP answer. */
export class RtspProtocolError extends Error {
  override name = 'RtspProtocolError';
}

/** RtspResponse is one answer; header names are lower case. */
export interface RtspResponse {
  status: number;
  reason: string;
  headers: Record<string, string>;
  body: string;
}

/** MAX_HEAD bounds an answer's head and MAX_BODY its body: a hostile device cannot make the gateway buffer without end. */
const MAX_HEAD = 16 * 1024;
const MAX_BODY = 64 * 1024;

/** RtspConnection sends requests one at a time and reads their answers, counting and skipping interleaved frames. */
export class RtspConnection {
  #socket: Socket;
  #buf = Buffer.alloc(0);
  #cseq = 0;
  #waiter?: () => void;
  #error?: Error;
  #closed = false;
  /** interleavedFrames counts the binary ($) frames seen between answers: RTP and RTCP of a playing session. */
  interleavedFrames = 0;
  /** receivedBytes counts every byte once discard() has been called. */
  receivedBytes = 0;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      this.#waiter?.();
    });
    socket.on('error', (err) => {
      this.#error = err;
      this.#waiter?.();
    });
    socket.on('close', () => {
      // No Error is made here: most connections close after their last answer, and a stack costs a sweep dearly.
      this.#closed = true;
      this.#waiter?.();
    });
  }

  /** open connects; signal aborts the attempt. */
  static open(host: string, port: number, signal?: AbortSignal): Promise<RtspConnection> {
    return new Promise((resolve, reject) => {
      // The signal is listened to here rather than handed to connect(), which wraps the socket in stream machinery
      // that a health sweep of 33,000 cameras pays for on every probe.
      const socket = connect({ host, port });
      if (signal) {
        const abort = () => socket.destroy(Object.assign(new Error('aborted'), { name: 'AbortError', code: 'ABORT_ERR' }));
        if (signal.aborted) abort();
        else {
          signal.addEventListener('abort', abort, { once: true });
          socket.once('close', () => signal.removeEventListener('abort', abort));
        }
      }
      socket.once('connect', () => resolve(new RtspConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** request sends one request and resolves with its answer; a closed or failed connection rejects. */
  async request(method: string, uri: string, headers: Record<string, string> = {}): Promise<RtspResponse> {
    const lines = [`${method} ${uri} RTSP/1.0`, `CSeq: ${++this.#cseq}`, 'User-Agent: SharpEyesGateway/0.1', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    this.#socket.write(lines.join('\r\n') + '\r\n\r\n');
    for (;;) {
      const res = this.#take();
      if (res) return res;
      if (this.#error) throw this.#error;
      if (this.#closed) throw new Error('the camera closed the connection');
      await new Promise<void>((r) => { this.#waiter = r; });
      this.#waiter = undefined;
    }
  }

  #take(): RtspResponse | undefined {
    while (this.#buf[0] === 0x24) {
      if (this.#buf.length < 4 || this.#buf.length < 4 + this.#buf.readUInt16BE(2)) return undefined;
      this.interleavedFrames++;
      this.#buf = this.#buf.subarray(4 + this.#buf.readUInt16BE(2));
    }
    const end = this.#buf.indexOf('\r\n\r\n');
    if (end < 0) {
      if (this.#buf.length > MAX_HEAD) throw new RtspProtocolError(`answer head exceeds ${MAX_HEAD} bytes`);
      return undefined;
    }
    const head = this.#buf.subarray(0, end).toString('latin1').split('\r\n');
    const status = /^RTSP\/1\.0 (\d{3}) ?(.*)$/.exec(head[0] ?? '');
    if (!status) throw new RtspProtocolError(`not an RTSP answer: ${JSON.stringify((head[0] ?? '').slice(0, 60))}`);
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    if (!Number.isInteger(length) || length < 0 || length > MAX_BODY) throw new RtspProtocolError(`bad Content-Length ${JSON.stringify(headers['content-length'])}`);
    if (this.#buf.length < end + 4 + length) return undefined;
    const body = this.#buf.subarray(end + 4, end + 4 + length).toString('utf8');
    this.#buf = this.#buf.subarray(end + 4 + length);
    return { status: Number(status[1]), reason: status[2] ?? '', headers, body };
  }

  /** discard stops reading answers and only counts bytes: for a session that plays and whose media nobody reads. */
  discard(): void {
    this.#socket.removeAllListeners('data');
    this.#buf = Buffer.alloc(0);
    this.#socket.on('data', (d: Buffer) => { this.receivedBytes += d.length; });
  }

  /** close ends the connection. */
  close(): void {
    this.#socket.destroy();
  }
}
