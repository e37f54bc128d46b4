// H.264 Annex B parsing: enough of the bitstream to split a clip into access units and describe it in SDP.

/** NalType lists the NAL unit types the simulator cares about (ITU-T H.264 table 7-1). */
export const NalType = { slice: 1, idr: 5, sei: 6, sps: 7, pps: 8, aud: 9 } as const;

/** AccessUnit is one coded picture: its NAL units without start codes, and whether it is a keyframe. */
export interface AccessUnit {
  nalus: Buffer[];
  key: boolean;
}

/** splitAnnexB returns the NAL units of an Annex B byte stream, without their start codes. */
export function splitAnnexB(data: Buffer): Buffer[] {
  const starts: Array<{ at: number; len: number }> = [];
  for (let i = 0; i + 2 < data.length; i++) {
    if (data[i] === 0 && data[i + 1] === 0) {
      if (data[i + 2] === 1) {
        starts.push({ at: i, len: 3 });
        i += 2;
      } else if (data[i + 2] === 0 && data[i + 3] === 1) {
        starts.push({ at: i, len: 4 });
        i += 3;
      }
    }
  }
  const nalus: Buffer[] = [];
  for (let k = 0; k < starts.length; k++) {
    const s = starts[k]!;
    const end = k + 1 < starts.length ? starts[k + 1]!.at : data.length;
    let stop = end;
    while (stop > s.at + s.len && data[stop - 1] === 0) stop--; // trailing_zero_8bits
    if (stop > s.at + s.len) nalus.push(data.subarray(s.at + s.len, stop));
  }
  return nalus;
}

/** nalType returns the nal_unit_type of a NAL unit. */
export function nalType(nalu: Buffer): number {
  return (nalu[0] ?? 0) & 0x1f;
}

function isVcl(type: number): boolean {
  return type >= 1 && type <= 5;
}

/** groupAccessUnits groups NAL units into pictures (first_mb_in_slice == 0 starts a new one). */
export function groupAccessUnits(nalus: Buffer[]): AccessUnit[] {
  const units: AccessUnit[] = [];
  let current: AccessUnit = { nalus: [], key: false };
  let hasVcl = false;
  const flush = () => {
    if (hasVcl) units.push(current);
    current = { nalus: [], key: false };
    hasVcl = false;
  };
  for (const nalu of nalus) {
    const type = nalType(nalu);
    if (type === NalType.aud) continue; // AUDs are redundant over RTP; the marker bit delimits pictures
    const firstMbZero = isVcl(type) && nalu.length > 1 && (nalu[1]! & 0x80) !== 0;
    if (hasVcl && (!isVcl(type) || firstMbZero)) flush();
    current.nalus.push(nalu);
    if (isVcl(type)) hasVcl = true;
    if (type === NalType.idr) current.key = true;
  }
  flush();
  return units;
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
  const units: AccessUnit[] = [];
  let current: AccessUnit = { nalus: [], key: false };
  let hasVcl = false;
  const flush = () => {
    if (hasVcl) units.push(current);
    current = { nalus: [], key: false };
    hasVcl = false;
  };
  for (const nalu of nalus) {
    const type = hevcNalType(nalu);
    if (type === 35) continue; // access unit delimiter
    const vcl = type < 32;
    const firstSlice = vcl && nalu.length > 2 && (nalu[2]! & 0x80) !== 0;
    if (hasVcl && (!vcl || firstSlice)) flush();
    current.nalus.push(nalu);
    if (vcl) hasVcl = true;
    if (type >= 16 && type <= 21) current.key = true;
  }
  flush();
  return units;
}

/** profileLevelId returns the SDP profile-level-id (hex of profile_idc, constraint flags, level_idc) of an SPS. */
export function profileLevelId(sps: Buffer): string {
  if (sps.length < 4) throw new TypeError('SPS too short to hold profile and level');
  return sps.subarray(1, 4).toString('hex');
}
