// What the command line says to the person at it, in their language: zh-CN unless SEG_LANG=en. The reason of each
// rejected row is the gateway's English text with its stable code (the console says it in either language).
import type { ImportProgress, ImportReport } from '../catalog/import/importer.js';

export type CliLang = 'zh-CN' | 'en';

/** cliLang reads SEG_LANG (zh-CN by default; "en" for English). */
export function cliLang(env: NodeJS.ProcessEnv = process.env): CliLang {
  return /^en/i.test(env.SEG_LANG ?? '') ? 'en' : 'zh-CN';
}

const ZH = {
  progress: (pct: string, p: ImportProgress) => `${pct}  ${p.rows} 行: 新增 ${p.added}, 更新 ${p.updated}, 未变 ${p.unchanged}, 拒绝 ${p.rejected}`,
  importing: '导入',
  summary: (r: ImportReport, dry: boolean) => `${dry ? '仅检查 (未写入): ' : ''}${r.rows} 行, 用时 ${(r.durationMs / 1000).toFixed(1)} 秒: 新增 ${r.added}, 更新 ${r.updated}, 未变 ${r.unchanged}, 拒绝 ${r.rejected}`,
  moved: (n: number) => `${n} 行的地址中带有用户名密码: 已移入加密存储, 地址中不再保留`,
  interrupted: '已中断: 已写入的行保留; 再次导入该文件即可完成',
  stopped: (line: number, max: number) => `文件超过 ${max} 行 (imports.maxRows): 从第 ${line} 行起未读取; 请将其余部分另存为一个文件导入`,
  rejectedRow: (line: number, id: string | undefined, reason: string, code: string) => `  第 ${line} 行${id ? ` (${id})` : ''}: ${reason} [${code}]`,
  more: (n: number) => `  … 另有 ${n} 行`,
  report: (path: string) => `每一被拒绝的行及其原因: ${path}`,
  told: '已通知运行中的网关重新加载目录',
  fileFailed: (path: string, message: string, code: string) => `${path}: 文件无法导入 [${code}]: ${message}`,
  exported: (n: number, unit: string, code: string, path: string) => `${unit} (${code}) 的 ${n} 台摄像机已写入 ${path}; 导出不含密码 (导入时留空即保留原密码)`,
  probing: (ms: number) => `正在搜索网络上的设备 (WS-Discovery, ${ms} 毫秒)…`,
  devices: (n: number, fresh: number) => `${n} 台设备, 其中 ${fresh} 台不在目录中`,
  inCatalog: (id: string) => `目录中编号 ${id}`,
  notAdded: (why: string) => `未加入: ${why}`,
  exists: (id: string) => `未加入: 摄像机 ${id} 已在目录中 (要修改请导入文件)`,
  added: (id: string, unit: string, code: string) => `已加入 ${id}, 单位 ${unit} (${code})`,
};

const EN: typeof ZH = {
  progress: (pct, p) => `${pct}  ${p.rows} rows: ${p.added} added, ${p.updated} updated, ${p.unchanged} unchanged, ${p.rejected} rejected`,
  importing: 'import',
  summary: (r, dry) => `${dry ? 'dry run (nothing written): ' : ''}${r.rows} rows in ${(r.durationMs / 1000).toFixed(1)} s: ${r.added} added, ${r.updated} updated, ${r.unchanged} unchanged, ${r.rejected} rejected`,
  moved: (n) => `${n} rows carried credentials in a URL: they were moved to the encrypted store and the URLs kept without them`,
  interrupted: 'interrupted: the rows written so far are kept; import the file again to finish',
  stopped: (line, max) => `the file has more than ${max} rows (imports.maxRows): reading stopped at line ${line}; import the rest as another file`,
  rejectedRow: (line, id, reason, code) => `  line ${line}${id ? ` (${id})` : ''}: ${reason} [${code}]`,
  more: (n) => `  ... and ${n} more`,
  report: (path) => `every rejected row, with its line and reason: ${path}`,
  told: 'the running gateway was told to reload its catalog',
  fileFailed: (path, message, code) => `${path}: the file cannot be imported [${code}]: ${message}`,
  exported: (n, unit, code, path) => `${n} cameras of ${unit} (${code}) written to ${path}; passwords are never exported (an empty password keeps the stored one on import)`,
  probing: (ms) => `probing the network (WS-Discovery, ${ms} ms)...`,
  devices: (n, fresh) => `${n} device(s), ${fresh} not in the catalog`,
  inCatalog: (id) => `in the catalog as ${id}`,
  notAdded: (why) => `not added: ${why}`,
  exists: (id) => `not added: camera ${id} is already in the catalog (import a file to change it)`,
  added: (id, unit, code) => `added ${id} under ${unit} (${code})`,
};

/** words are the command line's sentences in the chosen language. */
export function words(lang: CliLang = cliLang()): typeof ZH {
  return lang === 'en' ? EN : ZH;
}
