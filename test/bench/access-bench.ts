// The permission model at city scale: 33,000 cameras, the full tree (~1,700 units), 20,000 users and 100,000 grants.
// Prints p50/p99 of "visible cameras of a user" and of a single check, the index's memory, and the time to apply one
// grant or revocation in the model alone and through the store (SQLite, as the API does it).
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AccessIndex, type Action, type GrantRequest, type Role, type Subject } from '../../gateway/src/access/access-index.js';
import { OrgTree } from '../../gateway/src/access/org-tree.js';
import { generateDemoCatalog } from '../../gateway/src/catalog/demo-catalog.js';
import { GrantStore } from '../../gateway/src/catalog/grant-store.js';
import { openDatabase } from '../../gateway/src/store/database.js';
import { tempDir } from '../support/harness.js';
import { fixed, log, machineLine } from './bench-util.js';

const USERS = 20_000;
const GRANTS = 100_000;

function mulberry(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

/** heap is the used heap after full collections, with time for the concurrent sweeper to finish. */
const heap = async () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 50));
  }
  return process.memoryUsage().heapUsed;
};

/** runAccessBench builds the model at city scale and times its questions. */
export async function runAccessBench(): Promise<void> {
  log(`machine: ${machineLine()}${(globalThis as { gc?: unknown }).gc ? '' : ' (run with --expose-gc for exact memory)'}`);
  const rand = mulberry(2026);
  const demo = generateDemoCatalog(2026, 33_000, { host: '127.0.0.1', rtspPort: 8554, onvifPort: 8556, username: 'a', password: 'b' });
  const tree = new OrgTree(demo.units);
  const placements = demo.cameras.map((c) => ({ id: c.id, unit: c.unit }));
  const heap0 = await heap();
  const index = new AccessIndex(tree, placements);
  index.camerasUnder(tree.root.code); // build the sorted placement index
  const heap1 = await heap();
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const levels = (l: string) => tree.units().filter((u) => u.level === l).map((u) => u.code);
  const counties = levels('county');
  const townships = levels('township');
  const villages = levels('village');

  // 20,000 users: mostly village and township staff, some county and city.
  const users: Subject[] = [];
  for (let i = 0; i < USERS; i++) {
    const r = rand();
    const unit = r < 0.7 ? pick(villages) : r < 0.93 ? pick(townships) : r < 0.99 ? pick(counties) : tree.root.code;
    const roles: Role[] = r < 0.5 ? ['viewer'] : r < 0.9 ? ['operator'] : ['admin', 'operator'];
    users.push({ userId: i + 1, unit, roles });
  }

  // 100,000 grants: a county or township pushes 1-5 of its cameras to a unit below; a fifth may be passed on, and
  // some are passed on; a quarter expire.
  const now = Date.now();
  const actionsOf = (): Action[] => (rand() < 0.7 ? ['live'] : rand() < 0.5 ? ['live', 'playback'] : ['live', 'playback', 'ptz']);
  const below = new Map<string, string[]>();
  const under = (u: string) => {
    let l = below.get(u);
    if (!l) below.set(u, l = tree.subtree(u).filter((x) => x.code !== u).map((x) => x.code));
    return l;
  };
  const camsUnder = new Map<string, string[]>();
  const cams = (u: string) => {
    let l = camsUnder.get(u);
    if (!l) camsUnder.set(u, l = index.camerasUnder(u));
    return l;
  };
  const requests: Array<{ by: Subject; req: GrantRequest }> = [];
  let id = 0;
  const t0 = performance.now();
  let refused = 0;
  while (index.grants.size < GRANTS) {
    const regrant = rand() < 0.1 && index.grants.size > 100;
    let by: Subject;
    let req: GrantRequest;
    if (regrant) {
      const parent = index.grants.get(1 + Math.floor(rand() * id))!;
      if (!parent || !parent.reGrant || under(parent.toUnit).length === 0) continue;
      by = { userId: 0, unit: parent.toUnit, roles: ['admin'] };
      const to = pick(under(parent.toUnit));
      const pool = index.grants.camerasOf(parent).filter((c) => !tree.contains(to, index.unitOf(c)!));
      if (pool.length === 0) continue;
      req = { toUnit: to, cameras: [pick(pool)], group: null, actions: [...parent.actions], expiresAt: parent.expiresAt, reGrant: false, parent: parent.id };
    } else {
      const from = rand() < 0.3 ? pick(counties) : pick(townships);
      const to = pick(under(from));
      by = { userId: 0, unit: from, roles: ['admin'] };
      const pool = cams(from).filter((c) => !tree.contains(to, index.unitOf(c)!));
      if (pool.length === 0) continue;
      const n = 1 + Math.floor(rand() * 5);
      req = { toUnit: to, cameras: [...new Set(Array.from({ length: n }, () => pick(pool)))], group: null, actions: actionsOf(), expiresAt: rand() < 0.25 ? now + 86_400_000 * (1 + rand() * 30) : null, reGrant: rand() < 0.2, parent: null };
    }
    if (index.checkGrant(by, req, now)) {
      refused++;
      continue;
    }
    id++;
    index.grants.add({ id, grantorUser: 0, grantorUnit: by.unit, toUnit: req.toUnit, cameras: req.cameras, group: null, actions: req.actions, expiresAt: req.expiresAt, reGrant: req.reGrant, parent: req.parent, createdAt: now });
    if (requests.length < 2000) requests.push({ by, req });
  }
  log(`generated ${GRANTS} grants (${index.grants.entries} unit-camera entries, ${refused} generated requests refused) in ${fixed((performance.now() - t0) / 1000, 1)} s`);
  // What a gateway does at start: load the grants into a fresh index. Timed, and weighed with the heap.
  // The records are copied, so that the fresh index owns all it holds; dropping it then frees exactly its size.
  const { buildMs, withFresh } = await (async () => {
    const records = [...index.grants.all()].map((r) => ({ ...r, cameras: [...r.cameras], actions: [...r.actions] }));
    const t1 = performance.now();
    const fresh = new AccessIndex(tree, placements);
    for (const r of records) fresh.grants.add(r);
    const ms = performance.now() - t1;
    records.length = 0;
    const w = await heap();
    if (fresh.grants.size !== GRANTS) throw new Error('the fresh index lost grants');
    return { buildMs: ms, withFresh: w };
  })();
  const grantIndexBytes = withFresh - (await heap()) - (heap1 - heap0);

  // visible(user) for every user.
  const visibleNs: number[] = [];
  let visibleTotal = 0;
  for (const u of users) {
    const s = performance.now();
    visibleTotal += index.visible(u, now).length;
    visibleNs.push((performance.now() - s) * 1000);
  }
  // 1,000,000 single checks, half on cameras granted to the user's unit or in her subtree.
  const checkUs: number[] = [];
  const allCams = placements.map((c) => c.id);
  let allowed = 0;
  for (let i = 0; i < 1_000_000; i++) {
    const u = users[i % USERS]!;
    const cam = pick(allCams);
    const a: Action = i % 4 === 0 ? 'ptz' : 'live';
    const s = performance.now();
    if (index.may(u, a, cam, now)) allowed++;
    if (i % 10 === 0) checkUs.push((performance.now() - s) * 1000);
  }

  // Applying one grant / one revocation: the model alone, then through the store as the API does.
  const applyUs: number[] = [];
  const revokeUs: number[] = [];
  for (const { by, req } of requests.slice(0, 1000)) {
    const s = performance.now();
    if (!index.checkGrant(by, { ...req, parent: null }, now)) {
      id++;
      index.grants.add({ id, grantorUser: 0, grantorUnit: by.unit, toUnit: req.toUnit, cameras: req.cameras, group: null, actions: req.actions, expiresAt: req.expiresAt, reGrant: false, parent: null, createdAt: now });
    }
    applyUs.push((performance.now() - s) * 1000);
  }
  for (let i = 0; i < 1000; i++) {
    const g = index.grants.get(1 + Math.floor(rand() * id));
    if (!g) continue;
    const s = performance.now();
    index.grants.revoke(g.id);
    revokeUs.push((performance.now() - s) * 1000);
  }

  const dir = tempDir('seg-bench-access-');
  const storeUs: number[] = [];
  const storeRevokeUs: number[] = [];
  try {
    const db = openDatabase(join(dir.path, 'g.db'));
    const ins = db.prepare('INSERT INTO units (code, parent, name, level) VALUES (@code, @parent, @name, @level)');
    db.transaction(() => { for (const u of demo.units) ins.run(u); })();
    const cam = db.prepare("INSERT INTO cameras (id, name, unit, kind, main_url, created_at, updated_at) VALUES (?, ?, ?, 'other', 'rtsp://x/y', 0, 0)");
    db.transaction(() => { for (const c of placements) cam.run(c.id, c.id, c.unit); })();
    db.prepare("INSERT INTO users (id, username, display_name, unit, roles, password_hash, created_at) VALUES (1, 'admin', 'admin', ?, 'admin', 'x', 0)").run(tree.root.code);
    const store = new GrantStore(db, index);
    const made: number[] = [];
    for (const { by, req } of requests.slice(1000, 2000)) {
      const s = performance.now();
      try {
        made.push(store.create({ ...by, userId: 1 }, { ...req, parent: null }, now).id);
      } catch {
        continue;
      }
      storeUs.push((performance.now() - s) * 1000);
    }
    for (const gid of made.slice(0, 500)) {
      const s = performance.now();
      store.revoke({ userId: 1, unit: tree.root.code, roles: ['admin'] }, gid, now);
      storeRevokeUs.push((performance.now() - s) * 1000);
    }
    db.close();
  } finally {
    dir.remove();
  }

  const mb = (b: number) => fixed(b / 2 ** 20, 1);
  process.stdout.write([
    '',
    `permission model: ${placements.length} cameras, ${tree.size} units, ${USERS} users, ${GRANTS} grants (${index.grants.entries} unit-camera entries)`,
    '| question | p50 | p99 | max |',
    '| --- | ---: | ---: | ---: |',
    `| visible cameras of a user (${USERS} users, avg ${Math.round(visibleTotal / USERS)} cameras) | ${fixed(pct(visibleNs, 0.5), 1)} µs | ${fixed(pct(visibleNs, 0.99), 1)} µs | ${fixed(Math.max(...visibleNs), 1)} µs |`,
    `| single check (100,000 sampled of 1,000,000; ${fixed(allowed / 10_000, 1)}% allowed) | ${fixed(pct(checkUs, 0.5), 2)} µs | ${fixed(pct(checkUs, 0.99), 2)} µs | ${fixed(Math.max(...checkUs), 1)} µs |`,
    `| apply one grant, model (check + index) | ${fixed(pct(applyUs, 0.5), 1)} µs | ${fixed(pct(applyUs, 0.99), 1)} µs | ${fixed(Math.max(...applyUs), 1)} µs |`,
    `| revoke one grant with its re-grants, model | ${fixed(pct(revokeUs, 0.5), 1)} µs | ${fixed(pct(revokeUs, 0.99), 1)} µs | ${fixed(Math.max(...revokeUs), 1)} µs |`,
    `| apply one grant through the store (SQLite, WAL) | ${fixed(pct(storeUs, 0.5), 1)} µs | ${fixed(pct(storeUs, 0.99), 1)} µs | ${fixed(Math.max(...storeUs), 1)} µs |`,
    `| revoke one grant through the store | ${fixed(pct(storeRevokeUs, 0.5), 1)} µs | ${fixed(pct(storeRevokeUs, 0.99), 1)} µs | ${fixed(Math.max(...storeRevokeUs), 1)} µs |`,
    '',
    `memory: tree and camera index ${mb(heap1 - heap0)} MB; grant index ${mb(grantIndexBytes)} MB for ${GRANTS} grants; loading them into a fresh index takes ${fixed(buildMs, 0)} ms`,
    '',
  ].join('\n'));
}
