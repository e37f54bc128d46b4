// RTP for H.264 (RFC 3550 header, RFC 6184 single NAL unit and FU-A packetization).

/** RTP_HEADER_SIZE is the size of a header without CSRCs or extensions. */
export const RTP_HEADER_SIZE = 12;

/** packetizeNalu splits one NAL unit into RTP payloads no larger than mtu (single NAL unit or FU-A). */
export function packetizeNalu(nalu: Buffer, mtu: number): Buffer[] {
  if (nalu.length <= mtu) return [nalu];
  const header = nalu[0]!;
  const fuIndicator = (header & 0xe0) | 28;
  const type = header & 0x1f;
  const chunk = mtu - 2;
  const out: Buffer[] = [];
  for (let off = 1; off < nalu.length; off += chunk) {
    const end = Math.min(off + chunk, nalu.length);
    const fu = Buffer.allocUnsafe(2 + end - off);
    fu[0] = fuIndicator;
    fu[1] = (off === 1 ? 0x80 : 0) | (end === nalu.length ? 0x40 : 0) | type;
    nalu.copy(fu, 2, off, end);
    out.push(fu);
  }
  return out;
}

/** packetizeHevcNalu splits one H.265 NAL unit into RTP payloads no larger than mtu (single NAL unit or FU, RFC 7798). */
export function packetizeHevcNalu(nalu: Buffer, mtu: number): Buffer[] {
  if (nalu.length <= mtu) return [nalu];
  const type = (nalu[0]! >> 1) & 0x3f;
  const h0 = (nalu[0]! & 0x81) | (49 << 1);
  const h1 = nalu[1]!;
  const chunk = mtu - 3;
  const out: Buffer[] = [];
  for (let off = 2; off < nalu.length; off += chunk) {
    const end = Math.min(off + chunk, nalu.length);
    const fu = Buffer.allocUnsafe(3 + end - off);
    fu[0] = h0;
    fu[1] = h1;
    fu[2] = (off === 2 ? 0x80 : 0) | (end === nalu.length ? 0x40 : 0) | type;
    nalu.copy(fu, 3, off, end);
    out.push(fu);
  }
  return out;
}

/** writeRtpHeader writes a 12-byte RTP header at offset of buf. */
export function writeRtpHeader(buf: Buffer, offset: number, pt: number, marker: boolean, seq: number, ts: number, ssrc: number): void {
  buf[offset] = 0x80;
  buf[offset + 1] = (marker ? 0x80 : 0) | (pt & 0x7f);
  buf.writeUInt16BE(seq & 0xffff, offset + 2);
  buf.writeUInt32BE(ts >>> 0, offset + 4);
  buf.writeUInt32BE(ssrc >>> 0, offset + 8);
}

