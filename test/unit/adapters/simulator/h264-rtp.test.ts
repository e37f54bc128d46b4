import { describe, expect, it } from 'vitest';
import { groupAccessUnits, profileLevelId } from '../../../../adapters/simulator/h264.js';
import { splitAnnexB } from '../../../../adapters/rtsp/annex-b.js';
import { packetizeNalu, writeRtpHeader } from '../../../../adapters/simulator/rtp.js';
import { senderReport } from '../../../../adapters/rtsp/rtcp.js';

const sc4 = Buffer.from([0, 0, 0, 1]);
const sc3 = Buffer.from([0, 0, 1]);
const sps = Buffer.from([0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9]);
const pps = Buffer.from([0x68, 0xeb, 0xe3, 0xcb]);
const idr = (n: number) => Buffer.concat([Buffer.from([0x65, 0x88]), Buffer.alloc(n, 0x11)]);
const pslice = (n: number) => Buffer.concat([Buffer.from([0x41, 0x9a]), Buffer.alloc(n, 0x22)]);

describe('splitAnnexB', () => {
  it('splits 3- and 4-byte start codes and drops trailing zeros', () => {
    const stream = Buffer.concat([sc4, sps, sc3, pps, sc4, idr(10), Buffer.from([0, 0]), sc3, pslice(5)]);
    const nalus = splitAnnexB(stream);
    expect(nalus.map((n) => n[0])).toEqual([0x67, 0x68, 0x65, 0x41]);
    expect(nalus[2]!.length).toBe(12);
  });
});

describe('groupAccessUnits', () => {
  it('starts a picture at each first slice and keeps parameter sets with the IDR', () => {
    const aud = Buffer.from([0x09, 0xf0]);
    const units = groupAccessUnits([aud, sps, pps, idr(4), aud, pslice(4), pslice(3), sps, pps, idr(2)]);
    expect(units.map((u) => [u.key, u.nalus.map((n) => n[0]! & 0x1f)])).toEqual([
      [true, [7, 8, 5]], [false, [1]], [false, [1]], [true, [7, 8, 5]],
    ]);
  });

  it('keeps a second slice of the same picture (first_mb_in_slice != 0) in it', () => {
    const secondSlice = Buffer.from([0x65, 0x44, 0x00]); // ue(v) first_mb_in_slice != 0: top bit clear
    const units = groupAccessUnits([sps, pps, idr(4), secondSlice, pslice(2)]);
    expect(units).toHaveLength(2);
    expect(units[0]!.nalus).toHaveLength(4);
  });

  it('reads profile-level-id from the SPS', () => {
    expect(profileLevelId(sps)).toBe('64001f');
  });
});

describe('packetizeNalu (RFC 6184)', () => {
  it('sends small NAL units whole', () => {
    expect(packetizeNalu(pps, 1400)).toEqual([pps]);
  });

  it.each([1401, 2800, 5000, 14_000])('splits a %i-byte NAL unit into FU-A fragments that reassemble exactly', (size) => {
    const nalu = Buffer.concat([Buffer.from([0x65]), Buffer.from(Array.from({ length: size - 1 }, (_, i) => i % 251))]);
    const parts = packetizeNalu(nalu, 1400);
    expect(parts.every((p) => p.length <= 1400)).toBe(true);
    expect(parts.every((p) => (p[0]! & 0x1f) === 28 && (p[0]! & 0xe0) === (0x65 & 0xe0))).toBe(true);
    expect(parts.map((p) => [(p[1]! & 0x80) !== 0, (p[1]! & 0x40) !== 0])).toEqual(
      parts.map((_, i) => [i === 0, i === parts.length - 1]),
    );
    const header = Buffer.from([(parts[0]![0]! & 0xe0) | (parts[0]![1]! & 0x1f)]);
    expect(Buffer.concat([header, ...parts.map((p) => p.subarray(2))]).equals(nalu)).toBe(true);
  });
});

describe('RTP and RTCP headers', () => {
  it('writes version, marker, payload type, sequence, timestamp and SSRC', () => {
    const b = Buffer.alloc(12);
    writeRtpHeader(b, 0, 96, true, 0x1_0005, 0x1_2345_6789, 0xdeadbeef);
    expect([...b]).toEqual([0x80, 0xe0, 0x00, 0x05, 0x23, 0x45, 0x67, 0x89, 0xde, 0xad, 0xbe, 0xef]);
  });

  it('builds a 28-byte sender report with NTP time since 1900', () => {
    const sr = senderReport(7, 1_000_500, 90_000, 10, 1000);
    expect(sr.length).toBe(28);
    expect(sr[1]).toBe(200);
    expect(sr.readUInt32BE(8)).toBe(1000 + 2208988800);
    expect(sr.readUInt32BE(12)).toBe(0x80000000);
    expect(sr.readUInt32BE(24)).toBe(1000);
  });
});
