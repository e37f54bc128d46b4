// RTP packets (RFC 3550 5.1): the fixed header read and checked, the payload located past CSRCs, extension and padding.

/** RtpPacket is a parsed packet; payload is a view into the packet's bytes. */
export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
}

/** RtpError says why bytes are not an RTP packet. */
export class RtpError extends Error {
  override name = 'RtpError';
}

/** parseRtp reads a packet; it throws RtpError for bytes that cannot be one (the caller drops them). */
export function parseRtp(b: Buffer): RtpPacket {
  if (b.length < 12) throw new RtpError(`${b.length} bytes are fewer than an RTP header`);
  const v = b[0]! >> 6;
  if (v !== 2) throw new RtpError(`RTP version ${v}, not 2`);
  const padding = (b[0]! & 0x20) !== 0;
  const extension = (b[0]! & 0x10) !== 0;
  const csrcs = b[0]! & 0x0f;
  let offset = 12 + csrcs * 4;
  if (extension) {
    if (b.length < offset + 4) throw new RtpError('the header extension runs past the packet');
    offset += 4 + b.readUInt16BE(offset + 2) * 4;
  }
  let end = b.length;
  if (padding) {
    const pad = b[b.length - 1]!;
    if (pad === 0) throw new RtpError('padding of 0 bytes');
    end -= pad;
  }
  if (offset > end) throw new RtpError('the header runs past the packet');
  return {
    marker: (b[1]! & 0x80) !== 0,
    payloadType: b[1]! & 0x7f,
    sequence: b.readUInt16BE(2),
    timestamp: b.readUInt32BE(4),
    ssrc: b.readUInt32BE(8),
    payload: b.subarray(offset, end),
  };
}
