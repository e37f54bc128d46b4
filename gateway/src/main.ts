// CLI entry: `serve` (default) runs the gateway; `check-config` validates a configuration and exits.
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import pino from 'pino';
import { ConfigError, loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { Gateway } from './app.js';
import { SimulatorProcess } from './demo/simulator-process.js';
import { pidFileOf, runExport, runImport } from './cli/catalog-commands.js';
import { runAdd, runDiscover, runProbe } from './cli/device-commands.js';
import { AuditLog } from './audit/audit-log.js';
import { openDatabase } from './store/database.js';
import { MasterKey } from './secrets/master-key.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' },
    format: { type: 'string' }, encoding: { type: 'string' }, 'dry-run': { type: 'boolean' }, report: { type: 'string' }, unit: { type: 'string' },
    timeout: { type: 'string' }, username: { type: 'string' }, id: { type: 'string' }, name: { type: 'string' }, kind: { type: 'string' },
    latitude: { type: 'string' }, longitude: { type: 'string' }, 'main-url': { type: 'string' }, 'sub-url': { type: 'string' }, 'onvif-url': { type: 'string' },
    transport: { type: 'string' },
  },
});

const USAGE = `usage: gateway [serve|check-config|import FILE|export FILE] [--config FILE]
  serve         run the gateway (default); with demo.enabled it seeds a demo city and runs the camera simulator
  check-config  validate the configuration and print it (secrets hidden)
  import FILE   add or update cameras from a CSV or JSON file (columns: id, name, unit, kind, latitude, longitude,
                main_url, sub_url, onvif_url, username, password, transport); every rejected row is reported with its line.
                [--format csv|json] [--encoding utf-8|gb18030] [--dry-run] [--report REJECTED.csv]
                Exit status: 0 all rows landed, 3 some rows were rejected, 2 the file cannot be imported.
  export FILE   write the cameras (of --unit CODE, default all) in the import format; passwords are never written
  audit-verify  walk the audit trail's hash chain and say whether any entry was changed or removed (exit 4 if so)
  discover      list the ONVIF devices that answer a WS-Discovery probe [--timeout MS]
  probe URL     ask an ONVIF device (http://...) or an RTSP stream (rtsp://...) what it is [--username U]
  add           add one camera: --id --name --unit (--onvif-url URL | --main-url URL) [--sub-url] [--kind] [--latitude
                --longitude] [--username U] [--transport auto|tcp|udp]
                Camera passwords are read from the CAMERA_PASSWORD environment variable, never from arguments.
Environment overrides: SEG__SECTION__KEY=value, e.g. SEG__HTTP__PORT=9000`;

function load(): Config {
  try {
    return loadConfig({ file: values.config ?? (existsSync('config/gateway.json') ? 'config/gateway.json' : undefined), env: process.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** explainStartError turns the usual start failures into what to do about them. */
function explainStartError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e?.code === 'EADDRINUSE') {
    return `${e.address}:${e.port} is already in use (another gateway running?); choose another port with SEG__HTTP__PORT or http.port`;
  }
  const text = err instanceof Error ? err.message : String(err);
  const simulatorLine = /simulator: cannot listen.*$/m.exec(text);
  if (simulatorLine) return `${simulatorLine[0].replace('--port and --control-port', 'SEG__DEMO__SIMULATOR__RTSP_PORT and SEG__DEMO__SIMULATOR__CONTROL_PORT')}`;
  return text;
}

async function serve(config: Config): Promise<void> {
  const logger = pino({ level: config.log.level, base: { app: 'sharp-eyes-gateway' } });
  // Filled in as parts start, so that a signal during start-up stops what is already running.
  const running: { simulator?: SimulatorProcess; gateway?: Gateway } = {};
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      logger.warn('second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await running.gateway?.close();
    await running.simulator?.stop();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  if (config.demo.enabled) {
    const s = config.demo.simulator;
    logger.info('starting the camera simulator (clips are encoded on first run)');
    running.simulator = await SimulatorProcess.start({
      host: s.host, rtspPort: s.rtspPort, controlPort: s.controlPort, onvifPort: s.onvifPort, discoveryPort: s.discoveryPort, discoverable: s.discoverable, username: s.username, password: s.password,
      clipDir: s.clipDir, ffmpegPath: config.media.ffmpegPath,
      onLog: (line) => logger.debug({ part: 'simulator' }, line),
      onUnexpectedExit: (code, signal, stderr) => logger.error({ part: 'simulator', code, signal, stderr }, 'the camera simulator exited: demo cameras are offline'),
    });
  }
  const consoleDir = fileURLToPath(new URL('../../console/dist', import.meta.url));
  const gateway = await Gateway.create({ config, logger, consoleDir });
  running.gateway = gateway;
  const url = await gateway.listen();
  // The CLI's import writes the store directly and then signals us to pick the changes up.
  const pidFile = pidFileOf(config);
  writeFileSync(pidFile, `${process.pid}\n`);
  process.on('exit', () => rmSync(pidFile, { force: true }));
  process.on('SIGHUP', () => {
    const changes = gateway.syncCatalog();
    logger.info(changes, 'catalog reloaded (SIGHUP)');
  });
  const lines = [
    '',
    `Sharp Eyes Gateway is running: ${url}/`,
    `  cameras: ${gateway.access.size}   units: ${gateway.access.tree.size}   store: ${config.store.path}`,
    `  API description: ${url}/api/openapi.json`,
  ];
  if (gateway.demoAccounts.length > 0) {
    lines.push(`  demo accounts (password ${JSON.stringify(config.demo.password)}):`);
    for (const a of gateway.demoAccounts) {
      lines.push(`    ${a.username.padEnd(18)} ${a.roles.join('+').padEnd(15)} ${gateway.catalog.unitName(a.unit)} (${a.unit}, ${gateway.access.countUnder(a.unit)} cameras)`);
    }
    const sim = config.demo.simulator;
    lines.push(`  simulated cameras: rtsp://${sim.host}:${sim.rtspPort}/cam/<id>/<main|sub>, ONVIF http://${sim.host}:${sim.onvifPort}/onvif/<id>/device_service,`);
    lines.push(`    ${sim.discoverable} new devices answering WS-Discovery (onboard them in the console), fault knobs at http://${sim.host}:${sim.controlPort}/cameras/<id>/faults`);
  }
  lines.push('Stop with Ctrl-C.', '');
  process.stdout.write(lines.join('\n') + '\n');
}

const command = positionals[0] ?? 'serve';
if (values.help) {
  process.stdout.write(USAGE + '\n');
} else if (command === 'check-config') {
  const config = load();
  process.stdout.write(JSON.stringify({
    ...config, metrics: { ...config.metrics, bearerToken: config.metrics.bearerToken ? '***' : '' },
    demo: { ...config.demo, password: '***', simulator: { ...config.demo.simulator, password: '***' } },
  }, null, 2) + '\n');
} else if (command === 'audit-verify') {
  const config = load();
  let key: MasterKey;
  try {
    key = MasterKey.load(config.secrets.keyFile);
  } catch (err) {
    process.stderr.write(`audit-verify needs the master key the trail was written with (secrets.keyFile ${config.secrets.keyFile}): ${(err as Error).message}\n`);
    process.exit(2);
  }
  const db = openDatabase(config.store.path);
  const r = new AuditLog(db, key.derive('audit-chain'), { readOnly: true }).verify();
  const head = db.prepare('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1').get() as { id: number; hash: string } | undefined;
  db.close();
  if (r.broken) {
    process.stdout.write(`audit trail BROKEN at entry ${r.broken.id}: ${r.broken.reason} (${r.entries} entries read)\n`);
    process.exit(4);
  }
  process.stdout.write(`audit trail intact: ${r.entries} entries${r.unkeyed > 0 ? ` (the first ${r.unkeyed} written before the chain was keyed)` : ''}${head ? `, last ${head.id} with MAC ${head.hash} (keep it elsewhere to detect a cut tail)` : ''}\n`);
} else if (command === 'discover' || command === 'probe' || command === 'add') {
  const config = load();
  const run = command === 'discover' ? runDiscover(config, Number(values.timeout ?? 3000))
    : command === 'probe' ? (positionals[1] ? runProbe(config, positionals[1], values.username) : Promise.reject(new Error('probe needs an address')))
      : runAdd(config, {
        id: values.id, name: values.name, unit: values.unit, kind: values.kind, latitude: values.latitude, longitude: values.longitude,
        main_url: values['main-url'], sub_url: values['sub-url'], onvif_url: values['onvif-url'], username: values.username, transport: values.transport,
      });
  run.then((code) => process.exit(code), (err: unknown) => {
    process.stderr.write(`${command} failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
} else if (command === 'import' || command === 'export') {
  const file = positionals[1];
  if (!file) {
    process.stderr.write(`${command} needs a file\n${USAGE}\n`);
    process.exit(2);
  }
  const config = load();
  const run = command === 'import'
    ? runImport(config, file, { format: values.format, encoding: values.encoding, dryRun: values['dry-run'], report: values.report })
    : runExport(config, file, { format: values.format, unit: values.unit });
  run.then((code) => process.exit(code), (err: unknown) => {
    process.stderr.write(`${command} failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
} else if (command === 'serve') {
  serve(load()).catch((err: unknown) => {
    process.stderr.write(`gateway failed to start: ${explainStartError(err)}\n`);
    process.exit(1);
  });
} else {
  process.stderr.write(`unknown command ${JSON.stringify(command)}\n${USAGE}\n`);
  process.exit(2);
}
