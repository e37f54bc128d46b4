// Reads an H.265 sequence parameter set (ITU-T H.265 7.3.2.2): profile, tier and level, size, reorder depth, and the
// general profile_tier_level bytes an hvcC box and an RFC 6381 codec string are made of.
import { BitReader, unescapeRbsp } from './h264-sps.js';

/** HevcSpsInfo is what the media core needs of an H.265 SPS. */
export interface HevcSpsInfo {
  profileIdc: number;
  profileSpace: number;
  tier: number;
  levelIdc: number;
  width: number;
  height: number;
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  /** reorder is sps_max_num_reorder_pics of the highest sub-layer. */
  reorder: number;
  maxSubLayers: number;
  temporalIdNested: boolean;
  /** ptl are the 12 bytes of the general profile_tier_level: space, tier, profile, compatibility, constraints, level. */
  ptl: Buffer;
}

/** parseHevcSps reads an SPS NAL unit (with its 2-byte header); it throws RangeError on a truncated or corrupt one. */
export function parseHevcSps(nal: Uint8Array): HevcSpsInfo {
  if (nal.length < 15 || ((nal[0]! >> 1) & 0x3f) !== 33) throw new RangeError('not an H.265 SPS NAL unit');
  const rbsp = unescapeRbsp(nal.subarray(2));
  const r = new BitReader(rbsp);
  r.bits(4); // sps_video_parameter_set_id
  const maxSubLayersMinus1 = r.bits(3);
  if (maxSubLayersMinus1 > 6) throw new RangeError(`SPS has ${maxSubLayersMinus1 + 1} sub-layers (at most 7)`);
  const temporalIdNested = r.bit() === 1;
  const profileSpace = r.bits(2);
  const tier = r.bit();
  const profileIdc = r.bits(5);
  r.bits(32); // compatibility flags
  r.bits(24);
  r.bits(24); // 48 bits of constraint flags
  const levelIdc = r.bits(8);
  const subProfile: boolean[] = [];
  const subLevel: boolean[] = [];
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    subProfile.push(r.bit() === 1);
    subLevel.push(r.bit() === 1);
  }
  if (maxSubLayersMinus1 > 0) for (let i = maxSubLayersMinus1; i < 8; i++) r.bits(2);
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (subProfile[i]) {
      r.bits(32);
      r.bits(32);
      r.bits(24);
    }
    if (subLevel[i]) r.bits(8);
  }
  r.ue(); // sps_seq_parameter_set_id
  const chromaFormatIdc = r.ue();
  if (chromaFormatIdc > 3) throw new RangeError(`SPS chroma_format_idc ${chromaFormatIdc} is not 0-3`);
  if (chromaFormatIdc === 3) r.bit();
  let width = r.ue();
  let height = r.ue();
  if (width === 0 || height === 0 || width > 16_384 || height > 16_384) throw new RangeError(`SPS picture size ${width}x${height} is out of range`);
  if (r.bit()) {
    const subW = chromaFormatIdc === 1 || chromaFormatIdc === 2 ? 2 : 1;
    const subH = chromaFormatIdc === 1 ? 2 : 1;
    const [left, right, top, bottom] = [r.ue(), r.ue(), r.ue(), r.ue()];
    width -= subW * (left + right);
    height -= subH * (top + bottom);
  }
  const bitDepthLuma = r.ue() + 8;
  const bitDepthChroma = r.ue() + 8;
  r.ue(); // log2_max_pic_order_cnt_lsb_minus4
  const orderingForAll = r.bit() === 1;
  let reorder = 0;
  for (let i = orderingForAll ? 0 : maxSubLayersMinus1; i <= maxSubLayersMinus1; i++) {
    r.ue();
    reorder = r.ue();
    r.ue();
  }
  return {
    profileIdc, profileSpace, tier, levelIdc, width, height, chromaFormatIdc, bitDepthLuma, bitDepthChroma, reorder,
    maxSubLayers: maxSubLayersMinus1 + 1, temporalIdNested, ptl: Buffer.from(rbsp.subarray(1, 13)),
  };
}

/**
 * hevcCodecString is the RFC 6381 name of an H.265 stream (ISO/IEC 14496-15 E.3): hvc1, the profile space and
 * profile, the compatibility flags in reverse bit order, the tier and level, then the constraint bytes, trailing
 * zero bytes left out.
 */
export function hevcCodecString(info: HevcSpsInfo): string {
  const space = ['', 'A', 'B', 'C'][info.profileSpace] ?? '';
  const compat = info.ptl.readUInt32BE(1);
  let reversed = 0;
  for (let i = 0; i < 32; i++) if (compat & (1 << i)) reversed |= 1 << (31 - i);
  const constraints = [...info.ptl.subarray(5, 11)];
  while (constraints.length > 0 && constraints[constraints.length - 1] === 0) constraints.pop();
  return [
    'hvc1', `${space}${info.profileIdc}`, (reversed >>> 0).toString(16).toUpperCase(), `${info.tier ? 'H' : 'L'}${info.levelIdc}`,
    ...constraints.map((b) => b.toString(16).toUpperCase()),
  ].join('.');
}
