// The mediation case (调解案件) as a document: dispute types, the agreement's fingerprint (what a party's confirmation
// is bound to), and the PDF a case is exported as, in zh-CN or English, with a CJK font from the system.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import PDFDocument from 'pdfkit';
import type { MediationCase, Outcome, RecordingRecord } from './room-store.js';

/** DISPUTE_TYPES are the kinds of dispute grassroots centres mediate. */
export const DISPUTE_TYPES = ['neighbour', 'family', 'land', 'labour', 'property', 'traffic', 'consumer', 'other'] as const;
export type DisputeType = (typeof DISPUTE_TYPES)[number];

/** agreementHash is the SHA-256 of the agreement text a party confirms. */
export function agreementHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** CJK_FONTS are where Debian puts fonts with Chinese glyphs (fonts-droid-fallback first: it is a TrueType file). */
export const CJK_FONTS = [
  '/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf',
  '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc',
  '/usr/share/fonts/truetype/arphic/uming.ttc',
];

/** LATIN_FONTS carry what the CJK font lacks (digits, Latin letters); PDF's built-in Helvetica when none is there. */
const LATIN_FONTS = ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf'];
/** CJK_RUN matches the characters the CJK font writes (ideographs, kana, CJK and full-width punctuation). */
const CJK_RUN = /[\u2E80-\u9FFF\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFFEF]+|[^\u2E80-\u9FFF\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFFEF]+/g;

/** cjkFont finds a font for the PDF, or undefined (setup installs fonts-droid-fallback). */
export function cjkFont(extra?: string): string | undefined {
  return [extra, ...CJK_FONTS].find((f): f is string => !!f && existsSync(f));
}

type Lang = 'zh-CN' | 'en';
const WORDS: Record<Lang, Record<string, string>> = {
  'zh-CN': {
    title: '人民调解记录', caseNo: '案件编号', unit: '调解单位', disputeType: '纠纷类型', subject: '案由', mediator: '调解员', parties: '当事人',
    started: '开始时间', ended: '结束时间', outcome: '调解结果', minutes: '调解记录', agreement: '调解协议', agreementHash: '协议 SHA-256',
    confirmations: '当事人确认', confirmedAt: '确认于', notConfirmed: '尚无当事人确认', recordings: '录像', none: '无', exported: '导出',
    file: '文件', bytes: '字节', open: '进行中', changed: '（协议在确认后被修改，该确认已失效）',
    'outcome.settled': '调解成功', 'outcome.not-settled': '调解不成', 'outcome.referred': '移交处理', 'outcome.none': '未结',
    'dispute.neighbour': '邻里纠纷', 'dispute.family': '婚姻家庭纠纷', 'dispute.land': '土地承包纠纷', 'dispute.labour': '劳动争议（欠薪）', 'dispute.property': '物业纠纷',
    'dispute.traffic': '交通事故纠纷', 'dispute.consumer': '消费纠纷', 'dispute.other': '其他纠纷',
  },
  en: {
    title: 'Mediation record', caseNo: 'Case number', unit: 'Mediating unit', disputeType: 'Dispute type', subject: 'Subject', mediator: 'Mediator', parties: 'Parties',
    started: 'Started', ended: 'Ended', outcome: 'Outcome', minutes: 'Minutes', agreement: 'Agreement', agreementHash: 'Agreement SHA-256',
    confirmations: 'Confirmed by the parties', confirmedAt: 'confirmed at', notConfirmed: 'No party has confirmed yet', recordings: 'Recordings', none: 'none', exported: 'Exported',
    file: 'file', bytes: 'bytes', open: 'in progress', changed: '(the agreement changed after this confirmation: it no longer holds)',
    'outcome.settled': 'Settled', 'outcome.not-settled': 'Not settled', 'outcome.referred': 'Referred', 'outcome.none': 'Open',
    'dispute.neighbour': 'Neighbours', 'dispute.family': 'Marriage and family', 'dispute.land': 'Land contract', 'dispute.labour': 'Labour (unpaid wages)', 'dispute.property': 'Property management',
    'dispute.traffic': 'Traffic accident', 'dispute.consumer': 'Consumer', 'dispute.other': 'Other',
  },
};

/** casePdf writes a case, its confirmations and its recordings' fingerprints as a PDF. */
export function casePdf(c: MediationCase, o: { unitName: string; recordings: RecordingRecord[]; exportedBy: string; lang: Lang; font: string; now?: number }): Promise<Buffer> {
  const w = WORDS[o.lang];
  const when = (ms: number | null) => (ms === null ? w.open! : new Intl.DateTimeFormat(o.lang, { timeZone: 'Asia/Shanghai', dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(ms)));
  const doc = new PDFDocument({ size: 'A4', margin: 56, info: { Title: `${w.title} ${c.caseNo}`, Author: o.unitName, Subject: c.title, Creator: 'Sharp Eyes Gateway' } });
  const chunks: Buffer[] = [];
  doc.on('data', (b: Buffer) => chunks.push(b));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.registerFont('cjk', o.font);
  const latin = LATIN_FONTS.find((f) => existsSync(f));
  doc.registerFont('latin', latin ?? 'Helvetica');
  // Each run of text goes in the font that has its characters (the CJK font has no Latin letters or digits).
  const text = (t: string, opts: PDFKit.Mixins.TextOptions = {}) => {
    const runs = t.match(CJK_RUN) ?? [''];
    runs.forEach((r, i) => doc.font(/^[\u2E80-\u9FFF\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFFEF]/.test(r) ? 'cjk' : 'latin').text(latin ? r : r.replace(/[^\x20-\x7e\n]/g, '?'), { ...opts, continued: i < runs.length - 1 }));
    return doc;
  };
  doc.fontSize(18);
  text(w.title!, { align: 'center' }).moveDown(1);
  doc.fontSize(11);
  const sha = agreementHash(c.agreement);
  const rows: Array<[string, string]> = [
    [w.caseNo!, c.caseNo], [w.unit!, o.unitName], [w.disputeType!, w[`dispute.${c.disputeType}`] ?? c.disputeType], [w.subject!, c.title],
    [w.mediator!, c.mediatorName], [w.parties!, c.parties.join('、') || w.none!], [w.started!, when(c.startedAt)], [w.ended!, when(c.endedAt)],
    [w.outcome!, w[`outcome.${(c.outcome ?? 'none') as Outcome | 'none'}`]!],
  ];
  for (const [k, v] of rows) text(`${k}：${v}`);
  const section = (title: string) => { doc.moveDown(0.8).fontSize(13); text(title).fontSize(11).moveDown(0.3); };
  section(w.minutes!);
  text(c.minutes.trim() || w.none!);
  section(w.agreement!);
  text(c.agreement.trim() || w.none!);
  doc.moveDown(0.3).fontSize(8);
  text(`${w.agreementHash}：${sha}`).fontSize(11);
  section(w.confirmations!);
  if (c.confirmations.length === 0) text(w.notConfirmed!);
  for (const x of c.confirmations) text(`${x.party}  ${w.confirmedAt} ${when(x.at)}${x.agreementSha256 === sha ? '' : `  ${w.changed}`}`);
  section(w.recordings!);
  if (o.recordings.length === 0) text(w.none!);
  for (const r of o.recordings) {
    text(`${when(r.startedAt)} - ${when(r.stoppedAt)}`);
    doc.fontSize(8);
    for (const f of r.files) text(`  ${w.file} ${f.name}  ${f.bytes} ${w.bytes}  SHA-256 ${f.sha256}`);
    doc.fontSize(11);
  }
  doc.moveDown(1.5).fontSize(9);
  text(`${w.exported}：${when(o.now ?? Date.now())}  ${o.exportedBy}`, { align: 'right' });
  doc.end();
  return done;
}
