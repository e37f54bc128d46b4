// The console's two languages: the same keys in both, a sentence for every code the gateway answers with, and no
// English left in the Chinese resources beyond names and codes.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { zhCN } from '../../../console/src/i18n/zh-CN.js';
import { en } from '../../../console/src/i18n/en.js';
import { errorSaid, has, say, setLang, t } from '../../../console/src/i18n/i18n.js';
import { AUDIT_ACTIONS } from '../../../gateway/src/audit/actions.js';
import { PROBE_FAILURE_KINDS } from '../../../gateway/src/health/health-monitor.js';
import { CAMERA_KINDS } from '../../../gateway/src/catalog/catalog.js';
import { UNIT_LEVELS } from '../../../gateway/src/access/org-tree.js';
import { ROLES } from '../../../gateway/src/access/access-index.js';
import { ERROR_STATUS } from '../../../gateway/src/http/errors.js';
import { EVENT_KINDS } from '../../../gateway/src/events/event-center.js';
import { validationDetails } from '../../../gateway/src/http/server.js';

type Tree = { [k: string]: string | Tree };

function keys(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([k, v]) => (typeof v === 'string' ? [`${prefix}${k}`] : keys(v, `${prefix}${k}.`)));
}

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p, ext) : ext.test(f) ? [p] : [];
  });
}

const consoleSource = files('console/src', /\.tsx?$/).filter((f) => !f.includes('/i18n/')).map((f) => readFileSync(f, 'utf8')).join('\n');
const gatewaySource = files('gateway/src', /\.ts$/).map((f) => readFileSync(f, 'utf8')).join('\n');

// Words that are names or codes in any language: protocols, formats, units, the standard a camera id follows.
const ALLOWED_LATIN = /\b(?:HLS|LL-HLS|WebRTC|ONVIF|RTSP|RTMP|TCP|UDP|CSV|JSON|UTF-8|GBK|GB18030|WS-Discovery|GB\/T|H\.265|H\.264|MB|ms|Media Source Extensions|PageDown|PageUp|Delete|Enter|Tab|Ctrl|F|Webhook|https?|rtsp|main_url|onvif_url|auto|tcp|udp|SIM|IP|PTZ|FLV|WebSocket-FLV|device_service|onvif|RTP|SHA-256|PDF)\b/g;

describe('console languages', () => {
  it('hold the same keys in Chinese and English, none of them empty but the one meant to be', () => {
    const zh = keys(zhCN as unknown as Tree).sort();
    expect(keys(en as unknown as Tree).sort()).toEqual(zh);
    const emptyZh = zh.filter((k) => t(k) === '' && k !== 'common.empty');
    expect(emptyZh).toEqual([]);
  });

  it('leave no English in the Chinese resources but names and codes', () => {
    const english: string[] = [];
    const walk = (tree: Tree, path: string) => {
      for (const [k, v] of Object.entries(tree)) {
        if (typeof v !== 'string') { walk(v, `${path}${k}.`); continue; }
        const bare = v.replace(/\{\{\w+\}\}/g, '').replace(ALLOWED_LATIN, '').replace(/https?:\/\/|rtsps?:\/\//g, '');
        if (/[A-Za-z]{2,}/.test(bare)) english.push(`${path}${k}: ${v}`);
      }
    };
    walk(zhCN as unknown as Tree, '');
    expect(english).toEqual([]);
  });

  it('have every key the console names in its source', () => {
    const literal = [...consoleSource.matchAll(/\b(?:t|key:)\s*\(?\s*'([a-z][\w-]*(?:\.[\w-]+)+)'/g)].map((m) => m[1]!);
    const ternary = [...consoleSource.matchAll(/'((?:tile|grid|ptz|health|import|users|grants|audit|events|map|cameras|onboard|picker|tree|common|errors)\.[\w.-]+)'/g)].map((m) => m[1]!);
    // Event kinds (import.done, grant.revoked...) are values, not keys.
    const missing = [...new Set([...literal, ...ternary])].filter((k) => k !== 'common.empty' && !(EVENT_KINDS as readonly string[]).includes(k) && !has(k) && !k.endsWith('.'));
    expect(missing).toEqual([]);
  });

  it('say every reason and code the gateway answers with', () => {
    const reasons = new Set<string>();
    for (const m of gatewaySource.matchAll(/reason: '([a-z0-9-]+)'/g)) reasons.add(m[1]!);
    for (const m of gatewaySource.matchAll(/problem\('([a-z0-9-]+)'/g)) reasons.add(m[1]!);
    for (const m of gatewaySource.matchAll(/new WallError\('[a-z-]+', '([a-z0-9-]+)'/g)) reasons.add(m[1]!);
    for (const m of gatewaySource.matchAll(/new RoomError\('[a-z-]+', '([a-z0-9-]+)'/g)) reasons.add(m[1]!);
    for (const k of ['capacity', 'not-found', 'bad-request']) reasons.add(`room-media-${k}`);
    // The reasons made from a kind: import-<kind>, login-<kind>, share-<scope>, webrtc-<code>, invalid-<rule>.
    for (const k of ['too-large', 'busy']) reasons.add(`import-${k}`);
    for (const k of ['locked', 'throttled', 'slowed']) reasons.add(`login-${k}`);
    for (const k of ['user', 'unit']) reasons.add(`share-${k}`);
    for (const k of ['capacity', 'not-found', 'codec-unsupported', 'transcode-budget']) reasons.add(`webrtc-${k}`);
    for (const m of gatewaySource.matchAll(/VALIDATION_RULES = new Set\(\[([^\]]+)\]/g)) {
      for (const r of m[1]!.matchAll(/'(\w+)'/g)) reasons.add(`invalid-${r[1] === 'const' || r[1] === 'anyOf' ? 'enum' : r[1]}`);
    }
    // Reasons that name a WebRTC view's end (bus-feed close reasons) or a decision inside the access index are not answers.
    const notAnswers = new Set(['codec-changed', 'closed', 'worker-died', 'left']);
    const unsaid = [...reasons].filter((r) => !notAnswers.has(r) && !has(`errors.reason.${r}`));
    expect(unsaid).toEqual([]);
    expect(Object.keys(ERROR_STATUS).filter((c) => !has(`errors.code.${c}`))).toEqual([]);
  });

  it('name every audit action, camera kind, level, role, probe failure and event kind', () => {
    const used = new Set<string>();
    for (const m of gatewaySource.matchAll(/(?:auditBy\([^,]+, [^,]+, |audit\(req, |action: )'([a-z]+(?:\.[a-z-]+)*)'/g)) used.add(m[1]!);
    // Media actions of tokens, not audit actions.
    used.delete('live');
    used.delete('wall');
    for (const m of gatewaySource.matchAll(/#d\.audit\([^,]+, '([a-z]+(?:\.[a-z-]+)*)'/g)) used.add(m[1]!);
    expect([...used].filter((a) => !(AUDIT_ACTIONS as readonly string[]).includes(a))).toEqual([]);
    expect(AUDIT_ACTIONS.filter((a) => !has(`audit.action.${a}`))).toEqual([]);
    expect(PROBE_FAILURE_KINDS.filter((k) => !has(`offlineKind.${k}`))).toEqual([]);
    expect(CAMERA_KINDS.filter((k) => !has(`kind.${k}`))).toEqual([]);
    expect(UNIT_LEVELS.filter((l) => !has(`level.${l}`))).toEqual([]);
    expect(ROLES.filter((r) => !has(`roles.${r}`))).toEqual([]);
    expect(EVENT_KINDS.filter((k) => !has(`events.kind.${k}`) || !has(`events.text.${k}`))).toEqual([]);
  });

  it('turn a schema refusal into a sentence with the field by its label, in the chosen language', () => {
    const details = validationDetails([{ instancePath: '/toUnit', keyword: 'pattern', params: { pattern: '^[0-9]{6,20}$' } }], 'body');
    expect(details).toEqual({ reason: 'invalid-pattern', where: 'body', field: 'toUnit' });
    expect(say(errorSaid({ status: 400, code: 'bad-request', details }))).toBe('「推送到的单位」格式不对');
    const missing = validationDetails([{ instancePath: '', keyword: 'required', params: { missingProperty: 'password' } }], 'body');
    expect(say(errorSaid({ status: 400, code: 'bad-request', details: missing }))).toBe('缺少「密码」');
    setLang('en');
    try {
      expect(say(errorSaid({ status: 400, code: 'bad-request', details }))).toBe('"Unit to push to" is not in the right form');
      expect(say(errorSaid({ status: 429, code: 'share-exceeded', details: { reason: 'share-unit', limit: 8 } }))).toBe('Your unit has 8 videos open, the most it may: close one first');
    } finally {
      setLang('zh-CN');
    }
    // An unknown reason is said by its code; an unknown code by its status. The gateway's English message never is.
    expect(say(errorSaid({ status: 403, code: 'forbidden', details: { reason: 'no-such-reason' } }))).toBe('没有权限');
    expect(say(errorSaid({ status: 418, code: 'teapot' }))).toBe('请求失败 (状态 418)');
  });
});
