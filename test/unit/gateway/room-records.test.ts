// The parts of a room's record that need no media: the recorder's SDP and composing graph, the case store (numbers,
// search within units, confirmations), the agreement's fingerprint.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { composeGraph, gridOf, sdpFor } from '../../../gateway/src/media/webrtc/room-recorder.js';
import { agreementHash, casePdf, cjkFont } from '../../../gateway/src/rooms/cases.js';
import { RoomStore } from '../../../gateway/src/rooms/room-store.js';
import { openDatabase } from '../../../gateway/src/store/database.js';
import { tempDir } from '../../support/harness.js';

const run = promisify(execFile);

describe('the room recorder', () => {
  it('describes the consumers as ffmpeg reads them: one media line per kind, the codec and its parameters', () => {
    const sdp = sdpFor([
      { kind: 'video', port: 40000, codec: { mimeType: 'video/H264', payloadType: 102, clockRate: 90000, parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f' } } },
      { kind: 'audio', port: 40002, codec: { mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 } },
    ]);
    expect(sdp.split('\r\n')).toEqual(expect.arrayContaining([
      'm=video 40000 RTP/AVP 102', 'a=rtpmap:102 H264/90000', 'a=fmtp:102 packetization-mode=1;profile-level-id=42e01f',
      'm=audio 40002 RTP/AVP 111', 'a=rtpmap:111 opus/48000/2',
    ]));
    expect(sdp.endsWith('\r\n')).toBe(true);
  });

  it('places every participant in the most even grid, cells even-sized and inside the picture', () => {
    expect(gridOf(1)).toEqual([{ x: 0, y: 0, w: 1280, h: 720 }]);
    expect(gridOf(2).map((c) => [c.x, c.y])).toEqual([[0, 0], [640, 0]]);
    for (const n of [3, 5, 7, 10, 16]) {
      const cells = gridOf(n);
      expect(cells).toHaveLength(n);
      for (const c of cells) {
        expect(c.w % 2 + c.h % 2).toBe(0);
        expect(c.x + c.w).toBeLessThanOrEqual(1280);
        expect(c.y + c.h).toBeLessThanOrEqual(720);
      }
      expect(new Set(cells.map((c) => `${c.x},${c.y}`)).size).toBe(n);
    }
  });

  it('composes a participant who sent twice into one cell, each track from when it began, every voice mixed', () => {
    const { graph } = composeGraph([
      { name: 'a.mkv', participant: 'p1', kinds: ['video', 'audio'], startMs: 0, endMs: 4000 },
      { name: 'b.mkv', participant: 'p2', kinds: ['audio'], startMs: 1200, endMs: 9000 },
      { name: 'c.mkv', participant: 'p1', kinds: ['video', 'audio'], startMs: 5000, endMs: 9000 },
    ], 9000);
    // One video participant: the whole picture; her second track in the same cell from 5 s.
    expect(graph.filter((l) => l.includes('overlay=0:0'))).toHaveLength(2);
    expect(graph.find((l) => l.startsWith('[2:v]'))).toContain('PTS-STARTPTS+5.000/TB');
    expect(graph.find((l) => l.startsWith('[1:a]'))).toContain('adelay=1200:all=1');
    expect(graph.at(-1)).toBe('[silence][a0][a1][a2]amix=inputs=4:duration=first:normalize=0[aout]');
    expect(graph[0]).toContain('d=9.000');
  });
});

describe('the case store', () => {
  it('numbers cases by unit and year, finds them within units by any word, and keeps confirmations', () => {
    const dir = tempDir();
    const db = openDatabase(join(dir.path, 'g.db'));
    const store = new RoomStore(db);
    store.saveRoom({ id: 'room-1-abc', kind: 'mediation', title: 't', unit: '3601', host: 1, members: [1, 2], createdAt: 1, endedAt: null });
    const base = { room: 'room-1-abc', title: '邻里噪音纠纷', disputeType: 'neighbour', mediator: 1, mediatorName: '调解员甲', parties: ['张三', '李四'], startedAt: 10, endedAt: null, outcome: null, minutes: '', agreement: '', confirmations: [], updatedAt: 10 };
    expect(store.nextCaseNo('3601', 2026)).toBe('3601-2026-0001');
    const a = store.addCase({ ...base, caseNo: store.nextCaseNo('3601', 2026), unit: '3601' });
    expect(store.nextCaseNo('3601', 2026)).toBe('3601-2026-0002');
    expect(store.nextCaseNo('3602', 2026)).toBe('3602-2026-0001');
    store.addCase({ ...base, room: null, caseNo: store.nextCaseNo('3602', 2026), unit: '3602', parties: ['王五'], startedAt: 20 });
    expect(store.searchCases({ units: ['3601', '3602'], limit: 10, offset: 0 }).total).toBe(2);
    expect(store.searchCases({ units: ['3601'], q: '王五', limit: 10, offset: 0 }).total).toBe(0);
    expect(store.searchCases({ units: ['3602'], q: '王五', limit: 10, offset: 0 }).total).toBe(1);
    // LIKE's wildcards are words like any other.
    expect(store.searchCases({ units: ['3601', '3602'], q: '%', limit: 10, offset: 0 }).total).toBe(0);
    const agreement = '张三于三日内赔偿李四 500 元。';
    const c = store.updateCase(a.id, { agreement, outcome: 'settled', confirmations: [{ party: '李四', participant: 'p2', userId: 2, at: 30, agreementSha256: agreementHash(agreement) }] });
    expect(c).toMatchObject({ outcome: 'settled', agreement, confirmations: [{ party: '李四' }] });
    expect(store.searchCases({ units: ['3601'], outcome: 'settled', limit: 10, offset: 0 }).cases.map((x) => x.caseNo)).toEqual(['3601-2026-0001']);
    expect(store.caseOfRoom('room-1-abc')?.id).toBe(a.id);
    expect(agreementHash(agreement)).toMatch(/^[0-9a-f]{64}$/);
    expect(agreementHash(`${agreement} `)).not.toBe(agreementHash(agreement));
    db.close();
    dir.remove();
  });

  it('writes a PDF whose text, Chinese and Latin, pdftotext reads back, and marks a confirmation of an older text', async () => {
    const font = cjkFont();
    expect(font, 'a CJK font (setup installs fonts-droid-fallback)').toBeDefined();
    const pdf = await casePdf({
      id: 1, caseNo: '3601-2026-0007', room: null, unit: '3601', title: '欠薪纠纷 (ABC 建筑公司)', disputeType: 'labour', mediator: 1, mediatorName: '调解员甲',
      parties: ['张三', 'ABC 建筑公司'], startedAt: Date.UTC(2026, 10, 3, 2, 0), endedAt: Date.UTC(2026, 10, 3, 3, 30), outcome: 'settled', minutes: '第一行\n第二行 line two',
      agreement: '公司于 2026-11-30 前支付工资 12,000 元。', confirmations: [{ party: '张三', participant: 'p', userId: null, at: Date.UTC(2026, 10, 3, 3, 20), agreementSha256: '0'.repeat(64) }], updatedAt: 0,
    }, { unitName: '东城区', recordings: [], exportedBy: '管理员', lang: 'zh-CN', font: font! });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const dir = tempDir();
    writeFileSync(join(dir.path, 'c.pdf'), pdf);
    const text = (await run('pdftotext', ['-enc', 'UTF-8', join(dir.path, 'c.pdf'), '-'])).stdout.replace(/\s+/g, '');
    for (const w of ['3601-2026-0007', '欠薪纠纷(ABC建筑公司)', '劳动争议', '2026-11-30前支付工资12,000元', '第二行linetwo', '协议在确认后被修改', '2026年11月3日']) expect(text, w).toContain(w);
    dir.remove();
  });
});
