// The catalog: org units, cameras and users in the store, with units and camera summaries kept in memory for browsing.
import type { Db } from '../store/database.js';
import { OrgTree, type OrgUnit, type UnitLevel } from '../access/org-tree.js';
import type { Role } from '../access/access-index.js';
import type { CredentialCipher } from '../secrets/credential-cipher.js';
import type { SourceCredentials } from '../../../adapters/core/types.js';

/** CameraKind is what a camera watches, as the monitoring room groups them. */
export type CameraKind = 'junction' | 'square' | 'road' | 'entrance' | 'school' | 'market' | 'river' | 'other';

/** CameraTransport is how a camera's RTP travels: auto tries TCP (in the RTSP connection), then UDP. */
export type CameraTransport = 'auto' | 'tcp' | 'udp';

/** CAMERA_TRANSPORTS lists every transport. */
export const CAMERA_TRANSPORTS: readonly CameraTransport[] = ['auto', 'tcp', 'udp'];

/** CAMERA_KINDS lists every kind. */
export const CAMERA_KINDS: readonly CameraKind[] = ['junction', 'square', 'road', 'entrance', 'school', 'market', 'river', 'other'];

/** CameraSummary is what listings and search show. */
export interface CameraSummary {
  id: string;
  name: string;
  unit: string;
  kind: CameraKind;
}

/** Camera is a full record without its secret. */
export interface Camera extends CameraSummary {
  latitude: number | null;
  longitude: number | null;
  /** mainUrl is the main stream; null for a camera known by its ONVIF endpoint only, until the device is asked. */
  mainUrl: string | null;
  subUrl: string | null;
  onvifUrl: string | null;
  username: string | null;
  hasPassword: boolean;
  transport: CameraTransport;
}

/** UpsertResult says what writing a batch of cameras changed. */
export interface UpsertResult {
  added: string[];
  updated: string[];
  unchanged: number;
}

/** NewCamera is a camera to add, with its password in clear (it is sealed before it is written). */
export interface NewCamera extends Omit<Camera, 'hasPassword' | 'onvifUrl' | 'transport'> {
  onvifUrl?: string | null;
  password?: string;
  /** transport defaults to auto. */
  transport?: CameraTransport;
}

/** User is an account without its password hash. */
export interface User {
  id: number;
  username: string;
  displayName: string;
  unit: string;
  roles: Role[];
  disabled: boolean;
}

interface CameraRow {
  id: string; name: string; unit: string; kind: CameraKind; latitude: number | null; longitude: number | null;
  main_url: string | null; sub_url: string | null; onvif_url: string | null; username: string | null; secret: Buffer | null; transport: CameraTransport;
}

function toCamera(r: CameraRow): Camera {
  return {
    id: r.id, name: r.name, unit: r.unit, kind: r.kind, latitude: r.latitude, longitude: r.longitude,
    mainUrl: r.main_url, subUrl: r.sub_url, onvifUrl: r.onvif_url, username: r.username, hasPassword: r.secret !== null, transport: r.transport,
  };
}

interface UserRow { id: number; username: string; display_name: string; unit: string; roles: string; password_hash: string; disabled: number }

function toUser(r: UserRow): User {
  return { id: r.id, username: r.username, displayName: r.display_name, unit: r.unit, roles: r.roles.split(',').filter(Boolean) as Role[], disabled: r.disabled === 1 };
}

/** Catalog reads and writes the catalog. */
export class Catalog {
  #db: Db;
  #cipher: CredentialCipher;
  #summaries = new Map<string, CameraSummary>();
  #byUnit = new Map<string, CameraSummary[]>();
  #tree?: OrgTree;

  constructor(db: Db, cipher: CredentialCipher) {
    this.#db = db;
    this.#cipher = cipher;
  }

  /** load reads units and camera summaries into memory; call after seeding or import. */
  load(): void {
    const units = this.#db.prepare('SELECT code, parent, name, level FROM units').all() as OrgUnit[];
    this.#tree = units.length > 0 ? new OrgTree(units) : undefined;
    this.#summaries.clear();
    this.#byUnit.clear();
    for (const c of this.#db.prepare('SELECT id, name, unit, kind FROM cameras ORDER BY id').iterate() as IterableIterator<CameraSummary>) {
      this.#summaries.set(c.id, c);
      const list = this.#byUnit.get(c.unit);
      if (list) list.push(c);
      else this.#byUnit.set(c.unit, [c]);
    }
  }

  /** tree returns the governance tree; it throws when the catalog holds no unit. */
  tree(): OrgTree {
    if (!this.#tree) throw new Error('the catalog holds no org unit: seed the demo or import a tree');
    return this.#tree;
  }

  get isEmpty(): boolean {
    return !this.#tree;
  }

  /** summaries iterates every camera summary. */
  summaries(): IterableIterator<CameraSummary> {
    return this.#summaries.values();
  }

  /** camerasOf returns the cameras a unit owns directly (not those of its children). */
  camerasOf(unit: string): readonly CameraSummary[] {
    return this.#byUnit.get(unit) ?? [];
  }

  /** summary returns one camera summary. */
  summary(id: string): CameraSummary | undefined {
    return this.#summaries.get(id);
  }

  /** camera returns the full record of a camera. */
  camera(id: string): Camera | undefined {
    const r = this.#db.prepare('SELECT * FROM cameras WHERE id = ?').get(id) as CameraRow | undefined;
    return r && toCamera(r);
  }

  /** cameras iterates full records (without secrets) in id order, for export. */
  *cameras(): Generator<Camera> {
    for (const r of this.#db.prepare('SELECT * FROM cameras ORDER BY id').iterate() as IterableIterator<CameraRow>) yield toCamera(r);
  }

  /** probeTargets iterates the addresses of every camera (without credentials): what the health sweep probes. */
  probeTargets(): IterableIterator<{ id: string; mainUrl: string | null; onvifUrl: string | null }> {
    return this.#db.prepare('SELECT id, main_url AS mainUrl, onvif_url AS onvifUrl FROM cameras').iterate() as IterableIterator<{ id: string; mainUrl: string | null; onvifUrl: string | null }>;
  }

  /** updatedSince lists the cameras added or changed at or after a time (an import, here or by the CLI). */
  updatedSince(at: number): string[] {
    return (this.#db.prepare('SELECT id FROM cameras WHERE updated_at >= ?').all(at) as Array<{ id: string }>).map((r) => r.id);
  }

  /** cameraByOnvifUrl returns the id of the camera with that ONVIF endpoint. */
  cameraByOnvifUrl(url: string): string | undefined {
    return (this.#db.prepare('SELECT id FROM cameras WHERE onvif_url = ?').get(url) as { id: string } | undefined)?.id;
  }

  /** credentials decrypts the credentials of a camera, for the media layer only. */
  credentials(id: string): SourceCredentials | undefined {
    const r = this.#db.prepare('SELECT username, secret FROM cameras WHERE id = ?').get(id) as { username: string | null; secret: Buffer | null } | undefined;
    if (!r || r.username === null) return undefined;
    return { username: r.username, password: r.secret ? this.#cipher.open(id, r.secret) : '' };
  }

  /** addUnits inserts units in one transaction (parents before children). */
  addUnits(units: OrgUnit[]): void {
    const insert = this.#db.prepare('INSERT INTO units (code, parent, name, level) VALUES (@code, @parent, @name, @level)');
    this.#db.transaction(() => { for (const u of units) insert.run(u); })();
  }

  /** addCameras inserts cameras in one transaction, sealing each password. */
  addCameras(cameras: NewCamera[]): void {
    const result = this.upsertCameras(cameras);
    if (result.updated.length > 0 || result.unchanged > 0) throw new Error(`addCameras: ${result.updated.length + result.unchanged} camera id(s) were already in the catalog`);
  }

  /**
   * upsertCameras writes a batch in one transaction: new cameras are added, changed ones updated, identical ones left
   * alone (so importing a file twice changes nothing). A camera without a password keeps the one it has.
   */
  upsertCameras(cameras: NewCamera[]): UpsertResult {
    const select = this.#db.prepare('SELECT * FROM cameras WHERE id = ?');
    const insert = this.#db.prepare(`INSERT INTO cameras (id, name, unit, kind, latitude, longitude, main_url, sub_url, onvif_url, username, secret, transport, created_at, updated_at)
      VALUES (@id, @name, @unit, @kind, @latitude, @longitude, @mainUrl, @subUrl, @onvifUrl, @username, @secret, @transport, @now, @now)`);
    const update = this.#db.prepare(`UPDATE cameras SET name = @name, unit = @unit, kind = @kind, latitude = @latitude, longitude = @longitude,
      main_url = @mainUrl, sub_url = @subUrl, onvif_url = @onvifUrl, username = @username, secret = @secret, transport = @transport, updated_at = @now WHERE id = @id`);
    const now = Date.now();
    const result: UpsertResult = { added: [], updated: [], unchanged: 0 };
    this.#db.transaction(() => {
      for (const c of cameras) {
        const old = select.get(c.id) as CameraRow | undefined;
        const row = {
          id: c.id, name: c.name, unit: c.unit, kind: c.kind, latitude: c.latitude, longitude: c.longitude,
          mainUrl: c.mainUrl, subUrl: c.subUrl, onvifUrl: c.onvifUrl ?? null, username: c.username, transport: c.transport ?? 'auto', now,
        };
        if (!old) {
          insert.run({ ...row, secret: c.password === undefined ? null : this.#cipher.seal(c.id, c.password) });
          result.added.push(c.id);
          continue;
        }
        const samePassword = c.password === undefined || (old.secret !== null && this.#cipher.open(c.id, old.secret) === c.password);
        const same = samePassword && old.name === row.name && old.unit === row.unit && old.kind === row.kind && old.latitude === row.latitude
          && old.longitude === row.longitude && old.main_url === row.mainUrl && old.sub_url === row.subUrl && old.onvif_url === row.onvifUrl
          && old.username === row.username && old.transport === row.transport;
        if (same) {
          result.unchanged++;
          continue;
        }
        update.run({ ...row, secret: samePassword ? old.secret : this.#cipher.seal(c.id, c.password!) });
        result.updated.push(c.id);
      }
    })();
    return result;
  }

  /** deleteCamera removes a camera, its health rows and group memberships (cascaded) and its places in grants. */
  deleteCamera(id: string): boolean {
    return this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM grant_cameras WHERE camera = ?').run(id);
      return this.#db.prepare('DELETE FROM cameras WHERE id = ?').run(id).changes > 0;
    })();
  }

  /** addUser inserts an account with an already hashed password and returns its id. */
  addUser(user: Omit<User, 'id' | 'disabled'>, passwordHash: string): number {
    const r = this.#db.prepare('INSERT INTO users (username, display_name, unit, roles, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(user.username, user.displayName, user.unit, user.roles.join(','), passwordHash, Date.now());
    return Number(r.lastInsertRowid);
  }

  /** usersIn lists the accounts of some units. */
  usersIn(units: readonly string[]): User[] {
    return (this.#db.prepare('SELECT * FROM users WHERE unit IN (SELECT value FROM json_each(?)) ORDER BY unit, username').all(JSON.stringify(units)) as UserRow[]).map(toUser);
  }

  /** updateUser changes an account; a new password arrives hashed. */
  updateUser(id: number, change: { displayName?: string; roles?: Role[]; disabled?: boolean; passwordHash?: string }): void {
    const sets: string[] = [];
    const params: unknown[] = [];
    if (change.displayName !== undefined) { sets.push('display_name = ?'); params.push(change.displayName); }
    if (change.roles !== undefined) { sets.push('roles = ?'); params.push(change.roles.join(',')); }
    if (change.disabled !== undefined) { sets.push('disabled = ?'); params.push(change.disabled ? 1 : 0); }
    if (change.passwordHash !== undefined) { sets.push('password_hash = ?'); params.push(change.passwordHash); }
    if (sets.length === 0) return;
    this.#db.prepare(`UPDATE users SET ${sets.join(', ')} WHERE id = ?`).run(...params, id);
  }

  /** user returns an account by id. */
  user(id: number): User | undefined {
    const r = this.#db.prepare('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
    return r && toUser(r);
  }

  /** userWithHash returns an account and its password hash by username (for login only). */
  userWithHash(username: string): { user: User; passwordHash: string } | undefined {
    // Usernames are unique without regard to case (the store's index says so): any spelling finds the one account.
    const r = this.#db.prepare('SELECT * FROM users WHERE username = ? COLLATE NOCASE').get(username) as UserRow | undefined;
    return r && { user: toUser(r), passwordHash: r.password_hash };
  }

  /** unitName returns the name of a unit, for display. */
  unitName(code: string): string | undefined {
    return this.#tree?.get(code)?.name;
  }
}

/** levelOfCode infers the level of a 12-digit region code from its trailing zeros. */
export function levelOfCode(code: string): UnitLevel {
  if (!/^\d{12}$/.test(code)) throw new TypeError(`region code ${JSON.stringify(code)} is not 12 digits`);
  if (code.slice(2) === '0000000000') return 'province';
  if (code.slice(4) === '00000000') return 'city';
  if (code.slice(6) === '000000') return 'county';
  if (code.slice(9) === '000') return 'township';
  return 'village';
}
