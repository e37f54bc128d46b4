// One RTSP/1.0 client connection (RFC 2326): requests in order, answers framed and size-bounded, and RTP/RTCP carried in
// the same connection ($-framed, section 10.12) taken apart as it arrives, before, between and after answers.
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
/** MAX_PENDING bounds the answers read that no request asked for yet. */
const MAX_PENDING = 8;
/** MAX_HEADERS bounds the header lines of one answer. */
const MAX_HEADERS = 100;

/** InterleavedHandler receives each $-framed packet: its channel and payload (valid during the call only). */
export type InterleavedHandler = (channel: number, payload: Buffer) => void;

/**
 * RtspReader takes apart what a camera sends on its RTSP connection: answers (head bounded by MAX_HEAD, body by
 * MAX_BODY) and $-framed interleaved packets, in any split across reads. It throws RtspProtocolError for bytes that
 * are neither; nothing it holds grows past one answer or one frame.
 */
export class RtspReader {
  #buf: Buffer = Buffer.alloc(0);
  onAnswer: (res: RtspResponse) => void;
  onInterleaved: InterleavedHandler;

  constructor(onAnswer: (res: RtspResponse) => void, onInterleaved: InterleavedHandler) {
    this.onAnswer = onAnswer;
    this.onInterleaved = onInterleaved;
  }

  /** buffered is what waits for the rest of an answer or a frame. */
  get buffered(): number {
    return this.#buf.length;
  }

  push(d: Buffer): void {
    if (this.#buf.length >= 4 && this.#buf[0] === 0x24) {
      // The rest of a frame begun in an earlier read: only its own bytes are copied, not the whole of this read.
      const need = 4 + this.#buf.readUInt16BE(2) - this.#buf.length;
      if (need > 0) {
        if (d.length < need) {
          this.#buf = Buffer.concat([this.#buf, d]);
          return;
        }
        const frame = Buffer.concat([this.#buf, d.subarray(0, need)]);
        this.#buf = Buffer.alloc(0);
        this.onInterleaved(frame[1]!, frame.subarray(4));
        d = d.subarray(need);
      }
    }
    let buf = this.#buf.length === 0 ? d : Buffer.concat([this.#buf, d]);
    let at = 0;
    while (at < buf.length) {
      if (buf[at] === 0x24) {
        if (buf.length - at < 4) break;
        const len = buf.readUInt16BE(at + 2);
        if (buf.length - at < 4 + len) break;
        const channel = buf[at + 1]!;
        const payload = buf.subarray(at + 4, at + 4 + len);
        at += 4 + len;
        this.onInterleaved(channel, payload);
        continue;
      }
      this.#buf = buf.subarray(at);
      const res = this.#take();
      // An answer not complete yet stays in #buf for the next read.
      if (!res) return;
      this.onAnswer(res);
      buf = this.#buf;
      at = 0;
    }
    // What is left is the start of a frame: kept as a view until the next read completes it.
    this.#buf = at >= buf.length ? Buffer.alloc(0) : buf.subarray(at);
  }

  clear(): void {
    this.#buf = Buffer.alloc(0);
  }

  #take(): RtspResponse | undefined {
    // An answer starts with its status line: anything else where one should begin is not RTSP.
    const probe = this.#buf.subarray(0, Math.min(this.#buf.length, 5)).toString('latin1');
    if (!'RTSP/'.startsWith(probe)) throw new RtspProtocolError(`not an RTSP answer: ${JSON.stringify(this.#buf.subarray(0, 60).toString('latin1').split('\r\n')[0])}`);
    const end = this.#buf.indexOf('\r\n\r\n');
    if (end < 0) {
      if (this.#buf.length > MAX_HEAD) throw new RtspProtocolError(`answer head exceeds ${MAX_HEAD} bytes`);
      return undefined;
    }
    if (end > MAX_HEAD) throw new RtspProtocolError(`answer head exceeds ${MAX_HEAD} bytes`);
    const head = this.#buf.subarray(0, end).toString('latin1').split('\r\n');
    const status = /^RTSP\/1\.0 (\d{3}) ?(.*)$/.exec(head[0] ?? '');
    if (!status) throw new RtspProtocolError(`not an RTSP answer: ${JSON.stringify((head[0] ?? '').slice(0, 60))}`);
    if (head.length > MAX_HEADERS + 1) throw new RtspProtocolError(`an answer with more than ${MAX_HEADERS} header lines`);
    const headers: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const lengthText = headers['content-length'] ?? '0';
    const length = Number(lengthText);
    if (!/^\d{1,9}$/.test(lengthText) || length > MAX_BODY) throw new RtspProtocolError(`bad Content-Length ${JSON.stringify(headers['content-length'])}`);
    if (this.#buf.length < end + 4 + length) return undefined;
    const body = this.#buf.subarray(end + 4, end + 4 + length).toString('utf8');
    this.#buf = this.#buf.subarray(end + 4 + length);
    return { status: Number(status[1]), reason: status[2] ?? '', headers, body };
  }
}

/** RtspConnection sends requests one at a time and reads their answers; interleaved frames go to onInterleaved. */
export class RtspConnection {
  #socket: Socket;
  #reader: RtspReader;
  #cseq = 0;
  #answers: RtspResponse[] = [];
  #waiter?: () => void;
  #error?: Error;
  #closed = false;
  #discarding = false;
  /** interleavedFrames counts the binary ($) frames received: RTP and RTCP of a playing session. */
  interleavedFrames = 0;
  /** receivedBytes counts every byte received. */
  receivedBytes = 0;
  /** onInterleaved, when set, receives every interleaved frame; otherwise they are only counted. */
  onInterleaved?: InterleavedHandler;
  /** onClose is told once when the connection ends, with the error if it failed. */
  onClose?: (err?: Error) => void;

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.#reader = new RtspReader((res) => {
      if (this.#answers.length >= MAX_PENDING) throw new RtspProtocolError(`the camera sent ${MAX_PENDING} answers nobody asked for`);
      this.#answers.push(res);
      this.#waiter?.();
    }, (channel, payload) => {
      this.interleavedFrames++;
      this.onInterleaved?.(channel, payload);
    });
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.receivedBytes += d.length;
      if (this.#discarding) return;
      try {
        this.#reader.push(d);
      } catch (err) {
        this.#fail(err as Error);
      }
    });
    socket.on('error', (err) => this.#fail(err));
    socket.on('close', () => {
      // No Error is made here: most connections close after their last answer, and a stack costs a sweep dearly.
      if (this.#closed) return;
      this.#closed = true;
      this.#waiter?.();
      this.onClose?.(this.#error);
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

  /** closed says whether the connection has ended. */
  get closed(): boolean {
    return this.#closed;
  }

  /** request sends one request and resolves with its answer; a closed or failed connection rejects. */
  async request(method: string, uri: string, headers: Record<string, string> = {}, body?: string): Promise<RtspResponse> {
    if (this.#error) throw this.#error;
    if (this.#closed) throw new Error('the camera closed the connection');
    const cseq = ++this.#cseq;
    const lines = [`${method} ${uri} RTSP/1.0`, `CSeq: ${cseq}`, 'User-Agent: SharpEyesGateway/0.1', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    if (body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
    this.#socket.write(lines.join('\r\n') + '\r\n\r\n' + (body ?? ''));
    for (;;) {
      const res = this.#answers.shift();
      // An answer to an earlier request (one that timed out) is not this one's.
      if (res && res.headers.cseq !== undefined && Number(res.headers.cseq) < cseq) continue;
      if (res) return res;
      if (this.#error) throw this.#error;
      if (this.#closed) throw new Error('the camera closed the connection');
      await new Promise<void>((r) => { this.#waiter = r; });
      this.#waiter = undefined;
    }
  }

  /** sendInterleaved writes one $-framed packet (an RTCP receiver report on its channel). */
  sendInterleaved(channel: number, payload: Buffer): void {
    if (this.#closed || payload.length > 0xffff) return;
    const head = Buffer.from([0x24, channel & 0xff, payload.length >> 8, payload.length & 0xff]);
    this.#socket.write(Buffer.concat([head, payload]));
  }

  #fail(err: Error): void {
    if (this.#error || this.#closed) return;
    this.#error = err;
    this.#waiter?.();
    this.#socket.destroy();
  }

  /** discard stops reading answers and only counts bytes: for a session that plays and whose media nobody reads. */
  discard(): void {
    this.#discarding = true;
    this.#reader.clear();
  }

  /** close ends the connection. */
  close(): void {
    this.#socket.destroy();
  }
}
