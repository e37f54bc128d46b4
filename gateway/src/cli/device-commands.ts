// Onboarding from the CLI: discover devices, probe an address, add one camera under a unit. Passwords come from the
// CAMERA_PASSWORD environment variable, never from the command line (which every user of the machine can read).
import type { Config } from '../../../config/schema.js';
import { words } from './cli-words.js';
import { checkRow } from '../catalog/import/camera-row.js';
import { discoverDevices, ProbeFailedError, probeDevice } from '../devices/onboarding.js';
import { openCatalog, tellGateway } from './catalog-commands.js';

function credentials(username: string | undefined) {
  return username ? { username, password: process.env.CAMERA_PASSWORD ?? '' } : undefined;
}

/** runDiscover prints the devices that answer a WS-Discovery probe, marking those already in the catalog. */
export async function runDiscover(config: Config, timeoutMs: number): Promise<number> {
  const { db, catalog } = openCatalog(config);
  try {
    process.stderr.write(`${words().probing(timeoutMs)}\n`);
    const devices = await discoverDevices(timeoutMs, (url) => catalog.cameraByOnvifUrl(url));
    for (const d of devices) {
      process.stdout.write(`${(d.name ?? '(no name)').padEnd(36)} ${(d.hardware ?? '').padEnd(14)} ${d.xaddrs.join(' ')}${d.cameraId ? `   ${words().inCatalog(d.cameraId)}` : ''}\n`);
    }
    process.stdout.write(`${words().devices(devices.length, devices.filter((d) => !d.cameraId).length)}\n`);
    return 0;
  } finally {
    db.close();
  }
}

/** runProbe prints what a device address answers. */
export async function runProbe(config: Config, url: string, username: string | undefined): Promise<number> {
  try {
    const p = await probeDevice(url, credentials(username), config.devices.timeoutSeconds * 1000);
    if (p.device) process.stdout.write(`device: ${p.device.manufacturer} ${p.device.model}, firmware ${p.device.firmwareVersion}, serial ${p.device.serialNumber}${p.ptz ? ', PTZ' : ''}\n`);
    for (const s of p.streams) {
      const v = s.probe?.video;
      process.stdout.write(`${s.profile.padEnd(5)} ${s.url}  ${v ? `${v.codec} ${v.profile ?? ''} ${v.width}x${v.height} ${v.fps ?? '?'} fps, ${s.probe!.latencyMs} ms` : s.error ?? ''}\n`);
    }
    return 0;
  } catch (err) {
    if (err instanceof ProbeFailedError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

/** runAdd adds one camera to the store, with the same checks as an import row. */
export async function runAdd(config: Config, fields: Record<string, string | undefined>): Promise<number> {
  const { db, catalog, tree } = openCatalog(config);
  try {
    const checked = checkRow({ ...fields, password: fields.username ? process.env.CAMERA_PASSWORD : undefined }, { unitExists: (c) => tree.get(c) !== undefined, mayUse: () => true });
    if ('problem' in checked) {
      process.stderr.write(`${words().notAdded(`${checked.problem.text} [${checked.problem.reason}]`)}\n`);
      return 2;
    }
    if (catalog.camera(checked.camera.id)) {
      process.stderr.write(`${words().exists(checked.camera.id)}\n`);
      return 2;
    }
    catalog.upsertCameras([checked.camera]);
    process.stdout.write(`${words().added(checked.camera.id, tree.get(checked.camera.unit)!.name, checked.camera.unit)}\n`);
    if (tellGateway(config)) process.stdout.write(`${words().told}\n`);
    return 0;
  } finally {
    db.close();
  }
}
