// Reads an H.264 sequence parameter set (ITU-T H.264 7.3.2.1.1 and Annex E): profile, level, size, frame rate.

/** SpsInfo is what a probe reports of a stream's SPS. */
export interface SpsInfo {
  profile: string;
  profileIdc: number;
  level: number;
  width: number;
  height: number;
  /** fps comes from the VUI timing info, when the encoder wrote it. */
  fps?: number;
  /** reorder is max_num_reorder_frames from the VUI bitstream restriction (0: no B-frames), when written. */
  reorder?: number;
}

const PROFILE_NAMES: Record<number, string> = {
  66: 'Baseline', 77: 'Main', 88: 'Extended', 100: 'High', 110: 'High 10', 122: 'High 4:2:2', 244: 'High 4:4:4',
};
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** BitReader reads bits and exp-Golomb codes from an RBSP (ITU-T H.264 7.2, H.265 7.2). */
export class BitReader {
  #data: Uint8Array;
  #pos = 0;

  constructor(data: Uint8Array) {
    this.#data = data;
  }

  bit(): number {
    const byte = this.#data[this.#pos >> 3];
    if (byte === undefined) throw new RangeError('SPS ends early');
    const v = (byte >> (7 - (this.#pos & 7))) & 1;
    this.#pos++;
    return v;
  }

  bits(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }

  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      if (++zeros > 31) throw new RangeError('SPS holds an exp-Golomb code longer than 32 bits');
    }
    return 2 ** zeros - 1 + this.bits(zeros);
  }

  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }
}

/** unescapeRbsp removes emulation-prevention bytes (00 00 03 → 00 00). */
export function unescapeRbsp(nal: Uint8Array): Uint8Array {
  const out: number[] = [];
  let zeros = 0;
  for (const b of nal) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return Uint8Array.from(out);
}

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/** parseSps reads an SPS NAL unit (with its header byte); it throws RangeError on a truncated or corrupt one. */
export function parseSps(nal: Uint8Array): SpsInfo {
  if (nal.length < 4 || (nal[0]! & 0x1f) !== 7) throw new RangeError('not an SPS NAL unit');
  const r = new BitReader(unescapeRbsp(nal.subarray(1)));
  const profileIdc = r.bits(8);
  r.bits(8); // constraint flags
  const levelIdc = r.bits(8);
  r.ue(); // seq_parameter_set_id
  let chromaFormatIdc = 1;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.ue();
    if (chromaFormatIdc === 3) r.bit();
    r.ue();
    r.ue();
    r.bit();
    if (r.bit()) {
      for (let i = 0; i < (chromaFormatIdc === 3 ? 12 : 8); i++) if (r.bit()) skipScalingList(r, i < 6 ? 16 : 64);
    }
  }
  r.ue(); // log2_max_frame_num_minus4
  const pocType = r.ue();
  if (pocType === 0) r.ue();
  else if (pocType === 1) {
    r.bit();
    r.se();
    r.se();
    const cycle = r.ue();
    if (cycle > 255) throw new RangeError('SPS has too many reference frames in its POC cycle');
    for (let i = 0; i < cycle; i++) r.se();
  }
  r.ue(); // max_num_ref_frames
  r.bit();
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  const frameMbsOnly = r.bit();
  if (!frameMbsOnly) r.bit();
  r.bit(); // direct_8x8_inference
  let crop = [0, 0, 0, 0];
  if (r.bit()) crop = [r.ue(), r.ue(), r.ue(), r.ue()];
  const cropX = chromaFormatIdc === 0 || chromaFormatIdc === 3 ? 1 : 2;
  const cropY = (chromaFormatIdc === 1 ? 2 : 1) * (2 - frameMbsOnly);
  const info: SpsInfo = {
    profile: PROFILE_NAMES[profileIdc] ?? `profile ${profileIdc}`,
    profileIdc,
    level: levelIdc / 10,
    width: widthMbs * 16 - cropX * (crop[0]! + crop[1]!),
    height: (2 - frameMbsOnly) * heightMapUnits * 16 - cropY * (crop[2]! + crop[3]!),
  };
  if (r.bit()) {
    // VUI (Annex E.1.1), up to the timing info.
    if (r.bit() && r.bits(8) === 255) r.bits(32);
    if (r.bit()) r.bit();
    if (r.bit()) {
      r.bits(4);
      if (r.bit()) r.bits(24);
    }
    if (r.bit()) {
      r.ue();
      r.ue();
    }
    if (r.bit()) {
      const unitsInTick = r.bits(32);
      const timeScale = r.bits(32);
      if (unitsInTick > 0) info.fps = Math.round((timeScale / (2 * unitsInTick)) * 100) / 100;
      r.bit(); // fixed_frame_rate_flag
    }
    // What follows tells how far pictures are reordered (B-frames); an SPS cut short after the frame rate keeps it.
    try {
      const nalHrd = r.bit();
      if (nalHrd) skipHrd(r);
      const vclHrd = r.bit();
      if (vclHrd) skipHrd(r);
      if (nalHrd || vclHrd) r.bit(); // low_delay_hrd_flag
      r.bit(); // pic_struct_present_flag
      if (r.bit()) {
        r.bit();
        r.ue();
        r.ue();
        r.ue();
        r.ue();
        info.reorder = r.ue();
      }
    } catch {
      // An SPS without the bitstream restriction: the reorder depth stays unknown.
    }
  }
  return info;
}

function skipHrd(r: BitReader): void {
  const count = r.ue() + 1;
  if (count > 32) throw new RangeError('SPS HRD has more than 32 CPB specifications');
  r.bits(8);
  for (let i = 0; i < count; i++) {
    r.ue();
    r.ue();
    r.bit();
  }
  r.bits(20);
}

/** avcCodecString is the RFC 6381 name of an H.264 stream from its SPS: avc1. then profile, constraints, level in hex. */
export function avcCodecString(sps: Uint8Array): string {
  const hex = (b: number | undefined) => (b ?? 0).toString(16).padStart(2, '0');
  return `avc1.${hex(sps[1])}${hex(sps[2])}${hex(sps[3])}`;
}
