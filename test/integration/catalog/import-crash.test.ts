// A CLI import of 33,000 cameras killed with SIGKILL in the middle: the store stays consistent (whole batches, every
// secret readable), and importing the file again finishes the job; a third run changes nothing.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../../gateway/src/catalog/catalog.js';
import { CredentialCipher } from '../../../gateway/src/secrets/credential-cipher.js';
import { MasterKey } from '../../../gateway/src/secrets/master-key.js';
import { openDatabase } from '../../../gateway/src/store/database.js';
import { ROOT, startGateway, tempDir, type TestGateway } from '../../support/harness.js';

const ROWS = 33_000;
let gw: TestGateway;
let dir: ReturnType<typeof tempDir>;
let file: string;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  gw = await startGateway({ cameras: 100 });
  // The gateway seeded the tree; the CLI works on the same store while the gateway is stopped.
  await gw.gateway.close();
  const villages = gw.gateway.access.tree.units().filter((u) => u.level === 'village').map((u) => u.code);
  dir = tempDir();
  file = join(dir.path, 'cameras.csv');
  const lines = ['id,name,unit,kind,latitude,longitude,main_url,sub_url,username,password'];
  for (let i = 0; i < ROWS; i++) {
    const id = `CRASH${String(i).padStart(6, '0')}`;
    lines.push(`${id},批量导入 ${i},${villages[i % villages.length]},road,28.${i % 1000},116.${i % 997},rtsp://10.20.${i >> 8 & 255}.${i & 255}/main,,admin,Pw-${i}`);
  }
  writeFileSync(file, lines.join('\n') + '\n');
  const { store, secrets } = gw.gateway.config;
  env = { ...process.env, SEG__STORE__PATH: store.path, SEG__SECRETS__KEY_FILE: secrets.keyFile, SEG__LOG__LEVEL: 'silent' };
}, 60_000);
afterAll(async () => {
  await gw?.close();
  dir?.remove();
});

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'gateway/src/main.ts', ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
}

describe('import killed in the middle', () => {
  it('leaves whole batches only, and the next import completes it', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/src/main.ts', 'import', file], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        // The progress line after the first tenth: some batches are written, most are not.
        if (/导入: +\d+% +[1-9]\d* 行/.test(stderr)) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`the import ended before it could be killed: ${stderr}`)));
    });
    await new Promise((r) => child.once('close', r));

    const db = new Database(gw.gateway.config.store.path, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    const landed = (db.prepare("SELECT count(*) AS n FROM cameras WHERE id LIKE 'CRASH%'").get() as { n: number }).n;
    db.close();
    expect(landed).toBeGreaterThan(0);
    expect(landed).toBeLessThan(ROWS);
    expect(landed % 1000).toBe(0);
    const store = openDatabase(gw.gateway.config.store.path);
    const catalog = new Catalog(store, new CredentialCipher(MasterKey.loadOrCreate(gw.gateway.config.secrets.keyFile).derive('camera-credentials')));
    const sample = store.prepare("SELECT id FROM cameras WHERE id LIKE 'CRASH%' ORDER BY random() LIMIT 200").all() as Array<{ id: string }>;
    for (const { id } of sample) expect(catalog.credentials(id)).toEqual({ username: 'admin', password: `Pw-${Number(id.slice(5))}` });
    store.close();

    const second = cli('import', file);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toContain(`${ROWS} 行`);
    expect(second.stdout).toContain(`新增 ${ROWS - landed}, 更新 0, 未变 ${landed}, 拒绝 0`);
    const third = cli('import', file);
    expect(third.stdout).toContain(`新增 0, 更新 0, 未变 ${ROWS}, 拒绝 0`);
    // In English when asked.
    const english = spawnSync(process.execPath, ['--import', 'tsx', 'gateway/src/main.ts', 'import', file], { cwd: ROOT, env: { ...env, SEG_LANG: 'en' }, encoding: 'utf8', timeout: 120_000 });
    expect(english.stdout).toContain(`0 added, 0 updated, ${ROWS} unchanged, 0 rejected`);
  }, 180_000);

  it('reports rejected rows, writes them all to a file, and exits 3', () => {
    const bad = join(dir.path, 'bad.csv');
    writeFileSync(bad, 'id,name,unit,main_url\nok1,x,369000000000,rtsp://10.0.0.1/a\nbad 2,x,369000000000,rtsp://10.0.0.1/b\n');
    const r = cli('import', bad);
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/第 3 行 \(bad 2\): id "bad 2" is not 1-64 letters, digits, - or _ \[id-bad\]/);
    expect(r.stdout).toContain(`${bad}.rejected.csv`);
    const header = cli('import', bad.replace('bad.csv', 'header.csv'));
    expect(header.status).toBe(1);
    writeFileSync(join(dir.path, 'header.csv'), 'id;name;unit\n');
    const wrong = cli('import', join(dir.path, 'header.csv'));
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/文件无法导入 \[header-unknown-column\]: line 1: unknown column "id;name;unit"/);
    expect(cli('import', join(dir.path, 'nope.csv')).stderr).toMatch(/no file/);
  });
});
