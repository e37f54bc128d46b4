// Annex B byte streams (ITU-T H.264 B, H.265 B): NAL units behind 3- or 4-byte start codes, as clips, raw encoder
// output and ffmpeg's h264/hevc muxers write them.

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
