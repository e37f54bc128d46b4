// Onboarding from the CLI against the simulator: discover, probe and add, with the password from the environment.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../gateway/src/store/database.js';
import { ROOT, SIM_PASSWORD, SIM_USER, startGateway, type TestGateway } from '../../support/harness.js';

const tag = randomBytes(3).toString('hex');
let gw: TestGateway;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  gw = await startGateway({ cameras: 100, discoverable: [`CLI-${tag}`] });
  await gw.gateway.close();
  const { store, secrets } = gw.gateway.config;
  env = { ...process.env, SEG__STORE__PATH: store.path, SEG__SECRETS__KEY_FILE: secrets.keyFile, SEG__LOG__LEVEL: 'silent', CAMERA_PASSWORD: SIM_PASSWORD };
}, 60_000);
afterAll(async () => { await gw?.close(); });

/** cli runs the CLI without blocking this process, whose simulator must keep answering it. */
function cli(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/src/main.ts', ...args], { cwd: ROOT, env: { ...env, ...extraEnv } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('CLI onboarding', () => {
  it('discovers, probes and adds a device under a unit', async () => {
    const found = await cli(['discover', '--timeout', '1500']);
    expect(found.status).toBe(0);
    const line = found.stdout.split('\n').find((l) => l.includes(`CLI-${tag}`))!;
    const url = /(http:\/\/\S+)/.exec(line)?.[1];
    if (!url) throw new Error(`no address in: ${found.stdout} ${found.stderr}`);
    expect(line).not.toContain('目录中编号');

    const probe = await cli(['probe', url, '--username', SIM_USER]);
    expect(probe.status, probe.stderr).toBe(0);
    expect(probe.stdout).toMatch(new RegExp(`device: SharpEyes SE-SIM-D1, firmware .*, serial CLI-${tag}, PTZ`));
    expect(probe.stdout).toMatch(/main +rtsp:\S+ +H264 High 1280x720 25 fps/);
    expect(probe.stdout + probe.stderr).not.toContain(SIM_PASSWORD);
    const wrong = await cli(['probe', url, '--username', SIM_USER], { CAMERA_PASSWORD: 'nope' });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/GetDeviceInformation failed: the device refused the credentials/);

    const unit = gw.gateway.demoAccounts.find((a) => a.username === 'village-clerk')!.unit;
    const add = await cli(['add', '--id', `CLI-${tag}`, '--name', '命令行接入', '--unit', unit, '--onvif-url', url, '--username', SIM_USER]);
    expect(add.status, add.stderr).toBe(0);
    expect((await cli(['add', '--id', `CLI-${tag}`, '--name', 'x', '--unit', unit, '--onvif-url', url])).stderr).toMatch(/^未加入: 摄像机 CLI-\w+ 已在目录中/);
    expect((await cli(['add', '--id', 'bad id', '--name', 'x', '--unit', unit, '--onvif-url', url])).stderr).toMatch(/^未加入: id "bad id" is not 1-64 letters, digits, - or _ \[id-bad\]/);
    const db = openDatabase(gw.gateway.config.store.path);
    const row = db.prepare('SELECT unit, onvif_url, username, secret FROM cameras WHERE id = ?').get(`CLI-${tag}`) as { unit: string; onvif_url: string; username: string; secret: Buffer };
    db.close();
    expect(row).toMatchObject({ unit, onvif_url: url, username: SIM_USER });
    expect(row.secret.toString('latin1')).not.toContain(SIM_PASSWORD);
    expect((await cli(['discover', '--timeout', '1000'])).stdout).toContain(`目录中编号 CLI-${tag}`);
  }, 60_000);
});
