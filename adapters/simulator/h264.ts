// H.264 Annex B parsing: enough of the bitstream to split a clip into access units and describe it in SDP.

/** NalType lists the NAL unit types the simulator cares about (ITU-T H.264 table 7-1). */
export const NalType = { slice: 1, idr: 5, sei: 6, sps: 7, pps: 8, aud: 9 } as const;

/** AccessUnit is one coded picture: its NAL units without start codes, and whether it is a keyframe. */
export interface AccessUnit {
  nalus: Buffer[];
  key: boolean;
}

/** nalType returns the nal_unit_type of a NAL unit. */
export function nalType(nalu: Buffer): number {
  return (nalu[0] ?? 0) & 0x1f;
}

function isVcl(type: number): boolean {
  return type >= 1 && type <= 5;
}

/** PictureRules say how one codec's NAL units make pictures. */
interface PictureRules {
  type(nalu: Buffer): number;
  /** skip: NAL units left out (access unit delimiters: over RTP the marker bit delimits pictures). */
  skip(type: number): boolean;
  vcl(type: number): boolean;
  /** firstSlice: a VCL unit that starts a new picture. */
  firstSlice(nalu: Buffer): boolean;
  key(type: number): boolean;
}

/** groupPictures groups NAL units into pictures: a non-VCL unit after a picture, or a picture's first slice, ends it. */
function groupPictures(nalus: Buffer[], rules: PictureRules): AccessUnit[] {
  const units: AccessUnit[] = [];
  let current: AccessUnit = { nalus: [], key: false };
  let hasVcl = false;
  const flush = () => {
    if (hasVcl) units.push(current);
    current = { nalus: [], key: false };
    hasVcl = false;
  };
  for (const nalu of nalus) {
    const type = rules.type(nalu);
    if (rules.skip(type)) continue;
    const vcl = rules.vcl(type);
    if (hasVcl && (!vcl || rules.firstSlice(nalu))) flush();
    current.nalus.push(nalu);
    if (vcl) hasVcl = true;
    if (rules.key(type)) current.key = true;
  }
  flush();
  return units;
}

/** groupAccessUnits groups H.264 NAL units into pictures (first_mb_in_slice == 0 starts a new one). */
export function groupAccessUnits(nalus: Buffer[]): AccessUnit[] {
  return groupPictures(nalus, {
    type: nalType,
    skip: (t) => t === NalType.aud,
    vcl: isVcl,
    firstSlice: (n) => n.length > 1 && (n[1]! & 0x80) !== 0,
    key: (t) => t === NalType.idr,
  });
}

/** hevcNalType returns the nal_unit_type of an H.265 NAL unit. */
export function hevcNalType(nalu: Buffer): number {
  return ((nalu[0] ?? 0) >> 1) & 0x3f;
}

/**
 * groupHevcAccessUnits groups H.265 NAL units into pictures (first_slice_segment_in_pic_flag starts a new one); an IRAP
 * picture (BLA, IDR, CRA) is a keyframe.
 */
export function groupHevcAccessUnits(nalus: Buffer[]): AccessUnit[] {
  return groupPictures(nalus, {
    type: hevcNalType,
    skip: (t) => t === 35,
    vcl: (t) => t < 32,
    firstSlice: (n) => n.length > 2 && (n[2]! & 0x80) !== 0,
    key: (t) => t >= 16 && t <= 21,
  });
}

/** profileLevelId returns the SDP profile-level-id (hex of profile_idc, constraint flags, level_idc) of an SPS. */
export function profileLevelId(sps: Buffer): string {
  if (sps.length < 4) throw new TypeError('SPS too short to hold profile and level');
  return sps.subarray(1, 4).toString('hex');
}
