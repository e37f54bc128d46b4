// RTSP/1.0 server-side message framing (RFC 2326): requests with headers and an optional body, interleaved binary
// frames, and responses. The simulator's cameras and the gateway's own RTSP output both serve with it.

/** RtspRequest is one parsed request; header names are lower case. */
export interface RtspRequest {
  method: string;
  uri: string;
  version: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** RtspParseError says what was wrong with the bytes a client sent. */
export class RtspParseError extends Error {
  override name = 'RtspParseError';
}

/** MAX_HEADER_BYTES bounds the head of a request; a longer one is rejected, never buffered without end. */
export const MAX_HEADER_BYTES = 8192;
/** MAX_BODY_BYTES bounds a request body. */
export const MAX_BODY_BYTES = 65536;

/** RtspMessageReader accumulates bytes and yields requests, skipping interleaved ($) frames a client sends (RTCP). */
export class RtspMessageReader {
  #buf: Buffer = Buffer.alloc(0);
  /** onInterleaved receives the $-framed packets a client sends (RTCP receiver reports). */
  onInterleaved?: (channel: number, payload: Buffer) => void;

  /** push adds received bytes and returns every complete request; it throws RtspParseError on malformed input. */
  push(chunk: Buffer): RtspRequest[] {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const out: RtspRequest[] = [];
    for (;;) {
      if (this.#buf.length === 0) break;
      if (this.#buf[0] === 0x24) {
        if (this.#buf.length < 4) break;
        const len = this.#buf.readUInt16BE(2);
        if (this.#buf.length < 4 + len) break;
        this.onInterleaved?.(this.#buf[1]!, this.#buf.subarray(4, 4 + len));
        this.#buf = this.#buf.subarray(4 + len);
        continue;
      }
      const end = this.#buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.#buf.length > MAX_HEADER_BYTES) throw new RtspParseError(`request head exceeds ${MAX_HEADER_BYTES} bytes`);
        break;
      }
      if (end > MAX_HEADER_BYTES) throw new RtspParseError(`request head exceeds ${MAX_HEADER_BYTES} bytes`);
      const head = this.#buf.subarray(0, end).toString('latin1');
      const lines = head.split('\r\n');
      const requestLine = lines.shift() ?? '';
      const m = /^([A-Z_]{1,32}) (\S{1,2048}) (RTSP\/1\.0)$/.exec(requestLine);
      if (!m) throw new RtspParseError(`malformed request line: ${JSON.stringify(requestLine.slice(0, 80))}`);
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon <= 0) throw new RtspParseError(`malformed header line: ${JSON.stringify(line.slice(0, 80))}`);
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const lenText = headers['content-length'] ?? '0';
      if (!/^\d{1,6}$/.test(lenText)) throw new RtspParseError(`bad Content-Length: ${JSON.stringify(lenText)}`);
      const bodyLen = Number(lenText);
      if (bodyLen > MAX_BODY_BYTES) throw new RtspParseError(`body of ${bodyLen} bytes exceeds ${MAX_BODY_BYTES}`);
      if (this.#buf.length < end + 4 + bodyLen) break;
      const body = Buffer.from(this.#buf.subarray(end + 4, end + 4 + bodyLen));
      this.#buf = this.#buf.subarray(end + 4 + bodyLen);
      out.push({ method: m[1]!, uri: m[2]!, version: m[3]!, headers, body });
    }
    return out;
  }
}

/** STATUS_TEXT holds the reason phrases answered with. */
export const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  454: 'Session Not Found', 455: 'Method Not Valid in This State', 459: 'Aggregate Operation Not Allowed',
  461: 'Unsupported Transport', 500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable',
};

/** formatResponse serializes an RTSP response. */
export function formatResponse(status: number, cseq: string | undefined, headers: Record<string, string | number>, body?: string, server = 'SharpEyes-Simulator/1.0'): Buffer {
  const lines = [`RTSP/1.0 ${status} ${STATUS_TEXT[status] ?? 'Unknown'}`];
  if (cseq !== undefined) lines.push(`CSeq: ${cseq}`);
  lines.push(`Server: ${server}`, `Date: ${new Date().toUTCString()}`);
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  const payload = body ? Buffer.from(body, 'utf8') : undefined;
  if (payload) lines.push(`Content-Length: ${payload.length}`);
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
  return payload ? Buffer.concat([head, payload]) : head;
}
