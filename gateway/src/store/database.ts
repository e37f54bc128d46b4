// SQLite persistence: one file, WAL, numbered migrations applied at open.
import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { privateDir, privateFile } from './private-files.js';

/** Db is the handle every repository receives. */
export type Db = Database.Database;

/** Migration is SQL applied in one transaction; a table rebuild needs foreign keys off around it (SQLite's 12 steps). */
type Migration = string | { sql: string; rebuildsTables: true };

const MIGRATIONS: Migration[] = [
  `CREATE TABLE units (
     code TEXT PRIMARY KEY,
     parent TEXT REFERENCES units(code),
     name TEXT NOT NULL,
     level TEXT NOT NULL
   );
   CREATE INDEX units_parent ON units(parent);
   CREATE TABLE cameras (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     unit TEXT NOT NULL REFERENCES units(code),
     kind TEXT NOT NULL DEFAULT 'other',
     latitude REAL,
     longitude REAL,
     main_url TEXT NOT NULL,
     sub_url TEXT,
     username TEXT,
     secret BLOB,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX cameras_unit ON cameras(unit);
   CREATE TABLE users (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     username TEXT NOT NULL UNIQUE,
     display_name TEXT NOT NULL,
     unit TEXT NOT NULL REFERENCES units(code),
     roles TEXT NOT NULL,
     password_hash TEXT NOT NULL,
     disabled INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE sessions (
     id_hash TEXT PRIMARY KEY,
     user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     last_seen_at INTEGER NOT NULL,
     remote TEXT,
     user_agent TEXT
   );
   CREATE INDEX sessions_user ON sessions(user_id);
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  // 2: camera health. camera_status is the current state (one row per camera that was ever probed); camera_events
  // the transitions, kept for the configured number of days.
  `CREATE TABLE camera_status (
     camera TEXT PRIMARY KEY REFERENCES cameras(id) ON DELETE CASCADE,
     state TEXT NOT NULL CHECK (state IN ('online', 'offline')),
     since INTEGER NOT NULL,
     reason TEXT
   );
   CREATE TABLE camera_events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     camera TEXT NOT NULL,
     at INTEGER NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('online', 'offline')),
     reason TEXT
   );
   CREATE INDEX camera_events_camera ON camera_events(camera, at);
   CREATE INDEX camera_events_at ON camera_events(at);`,
  // 3: cameras reached through ONVIF may have no stream address until the device is asked; imports track updates.
  {
    rebuildsTables: true,
    sql: `CREATE TABLE cameras_new (
       id TEXT PRIMARY KEY,
       name TEXT NOT NULL,
       unit TEXT NOT NULL REFERENCES units(code),
       kind TEXT NOT NULL DEFAULT 'other',
       latitude REAL,
       longitude REAL,
       main_url TEXT,
       sub_url TEXT,
       onvif_url TEXT,
       username TEXT,
       secret BLOB,
       created_at INTEGER NOT NULL,
       updated_at INTEGER NOT NULL,
       CHECK (main_url IS NOT NULL OR onvif_url IS NOT NULL)
     );
     INSERT INTO cameras_new (id, name, unit, kind, latitude, longitude, main_url, sub_url, username, secret, created_at, updated_at)
       SELECT id, name, unit, kind, latitude, longitude, main_url, sub_url, username, secret, created_at, created_at FROM cameras;
     DROP TABLE cameras;
     ALTER TABLE cameras_new RENAME TO cameras;
     CREATE INDEX cameras_unit ON cameras(unit);`,
  },
  // 4: push-down grants, camera groups, and the audit log (append-only: triggers refuse changes; each entry chains
  // the hash of the one before, so a change made around the triggers is found by verification).
  `CREATE TABLE camera_groups (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     name TEXT NOT NULL,
     owner_unit TEXT NOT NULL REFERENCES units(code),
     created_by INTEGER NOT NULL REFERENCES users(id),
     created_at INTEGER NOT NULL,
     UNIQUE (owner_unit, name)
   );
   CREATE TABLE camera_group_members (
     group_id INTEGER NOT NULL REFERENCES camera_groups(id) ON DELETE CASCADE,
     camera TEXT NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
     PRIMARY KEY (group_id, camera)
   );
   CREATE TABLE grants (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     grantor_user INTEGER NOT NULL REFERENCES users(id),
     grantor_unit TEXT NOT NULL REFERENCES units(code),
     to_unit TEXT NOT NULL REFERENCES units(code),
     group_id INTEGER REFERENCES camera_groups(id),
     actions TEXT NOT NULL,
     expires_at INTEGER,
     regrant INTEGER NOT NULL DEFAULT 0,
     parent INTEGER REFERENCES grants(id),
     created_at INTEGER NOT NULL,
     revoked_at INTEGER,
     revoked_by INTEGER REFERENCES users(id)
   );
   CREATE INDEX grants_to_unit ON grants(to_unit);
   CREATE INDEX grants_parent ON grants(parent);
   CREATE TABLE grant_cameras (
     grant_id INTEGER NOT NULL REFERENCES grants(id),
     camera TEXT NOT NULL,
     PRIMARY KEY (grant_id, camera)
   );
   CREATE TABLE audit_log (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     at INTEGER NOT NULL,
     user_id INTEGER,
     username TEXT NOT NULL,
     unit TEXT,
     action TEXT NOT NULL,
     camera TEXT,
     camera_unit TEXT,
     detail TEXT NOT NULL,
     remote TEXT,
     prev_hash TEXT NOT NULL,
     hash TEXT NOT NULL
   );
   CREATE INDEX audit_at ON audit_log(at);
   CREATE INDEX audit_unit ON audit_log(unit, at);
   CREATE INDEX audit_camera_unit ON audit_log(camera_unit, at);
   CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit entries cannot be changed'); END;
   CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit entries cannot be deleted'); END;`,
  // 5: usernames are unique without regard to case: "SEC-VICT" beside "sec-vict" would be one person to a reader and
  // two accounts to the lockout. A store that already holds such twins stops here, naming them (checkCaseTwins).
  `CREATE UNIQUE INDEX users_username_nocase ON users(username COLLATE NOCASE);`,
  // 6: how each camera's RTP travels: auto (TCP in the RTSP connection, UDP if the camera refuses), tcp, or udp.
  `ALTER TABLE cameras ADD COLUMN transport TEXT NOT NULL DEFAULT 'auto' CHECK (transport IN ('auto', 'tcp', 'udp'));`,
  // 7: whether each camera accepts its stored credentials (a camera can answer, and so be online, and refuse them),
  // with the history of changes; camera_status may now hold a camera whose liveness is not known yet.
  {
    rebuildsTables: true,
    sql: `CREATE TABLE camera_status_new (
       camera TEXT PRIMARY KEY REFERENCES cameras(id) ON DELETE CASCADE,
       state TEXT NOT NULL CHECK (state IN ('online', 'offline', 'unknown')),
       since INTEGER NOT NULL,
       reason TEXT,
       credentials TEXT CHECK (credentials IN ('accepted', 'rejected')),
       credentials_at INTEGER,
       credentials_reason TEXT
     );
     INSERT INTO camera_status_new (camera, state, since, reason) SELECT camera, state, since, reason FROM camera_status;
     DROP TABLE camera_status;
     ALTER TABLE camera_status_new RENAME TO camera_status;
     CREATE TABLE camera_credential_events (
       id INTEGER PRIMARY KEY AUTOINCREMENT,
       camera TEXT NOT NULL,
       at INTEGER NOT NULL,
       result TEXT NOT NULL CHECK (result IN ('accepted', 'rejected')),
       reason TEXT
     );
     CREATE INDEX camera_credential_events_camera ON camera_credential_events(camera, at);
     CREATE INDEX cameras_updated ON cameras(updated_at);`,
  },
  // 8: the stable kind of an offline camera's reason (unreachable, timeout, unauthorized...), which the console says
  // in the user's language; the reason itself stays the device's words.
  `ALTER TABLE camera_status ADD COLUMN reason_kind TEXT;
   ALTER TABLE camera_events ADD COLUMN reason_kind TEXT;`,
  // 9: saved views of the live grid (per user, shareable within the user's unit).
  `CREATE TABLE saved_views (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     owner INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     unit TEXT NOT NULL,
     name TEXT NOT NULL,
     layout INTEGER NOT NULL,
     tiles TEXT NOT NULL,
     shared INTEGER NOT NULL DEFAULT 0 CHECK (shared IN (0, 1)),
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     UNIQUE (owner, name)
   );
   CREATE INDEX saved_views_unit ON saved_views(unit, shared);`,
  // 10: the event centre (what happened, to which unit and camera, who acknowledged it) and its webhooks (the
  // secret sealed with a key of its own).
  `CREATE TABLE events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     at INTEGER NOT NULL,
     kind TEXT NOT NULL,
     unit TEXT NOT NULL,
     camera TEXT,
     params TEXT NOT NULL,
     acked_by TEXT,
     acked_at INTEGER
   );
   CREATE INDEX events_unit ON events(unit, id);
   CREATE INDEX events_camera ON events(camera, id);
   CREATE INDEX events_at ON events(at);
   CREATE TABLE webhooks (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     unit TEXT NOT NULL,
     url TEXT NOT NULL,
     kinds TEXT NOT NULL,
     secret BLOB NOT NULL,
     created_by INTEGER,
     created_at INTEGER NOT NULL,
     last_status TEXT,
     last_at INTEGER,
     failures INTEGER NOT NULL DEFAULT 0
   );`,
  // 11: video walls: each wall's state (its screens, tiles and windows, with the version of every element), presets
  // and their schedules, tours, display devices (a hash of each token) and alarms.
  `CREATE TABLE walls (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     name TEXT NOT NULL,
     unit TEXT NOT NULL,
     rows INTEGER NOT NULL,
     cols INTEGER NOT NULL,
     state TEXT NOT NULL,
     version INTEGER NOT NULL,
     versions TEXT NOT NULL,
     alarm_targets TEXT NOT NULL DEFAULT '[]',
     created_by INTEGER,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX walls_unit ON walls(unit);
   CREATE TABLE wall_presets (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     wall INTEGER NOT NULL REFERENCES walls(id) ON DELETE CASCADE,
     name TEXT NOT NULL,
     state TEXT NOT NULL,
     created_by INTEGER,
     created_at INTEGER NOT NULL,
     UNIQUE (wall, name)
   );
   CREATE TABLE wall_schedules (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     wall INTEGER NOT NULL REFERENCES walls(id) ON DELETE CASCADE,
     preset INTEGER NOT NULL REFERENCES wall_presets(id) ON DELETE CASCADE,
     minute INTEGER NOT NULL,
     days INTEGER NOT NULL,
     last_run INTEGER
   );
   CREATE TABLE wall_tours (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     wall INTEGER NOT NULL REFERENCES walls(id) ON DELETE CASCADE,
     name TEXT NOT NULL,
     cameras TEXT NOT NULL,
     unit TEXT,
     targets TEXT NOT NULL,
     interval_s INTEGER NOT NULL,
     state TEXT NOT NULL,
     position INTEGER NOT NULL DEFAULT 0,
     started_by INTEGER,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE wall_displays (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     wall INTEGER NOT NULL REFERENCES walls(id) ON DELETE CASCADE,
     screen INTEGER NOT NULL,
     name TEXT NOT NULL,
     token_hash TEXT NOT NULL UNIQUE,
     created_by INTEGER,
     created_at INTEGER NOT NULL,
     revoked_at INTEGER,
     last_seen_at INTEGER
   );
   CREATE TABLE wall_alarms (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     wall INTEGER NOT NULL REFERENCES walls(id) ON DELETE CASCADE,
     camera TEXT NOT NULL,
     target TEXT,
     preset TEXT,
     note TEXT NOT NULL DEFAULT '',
     state TEXT NOT NULL,
     placed TEXT,
     previous TEXT,
     raised_by INTEGER,
     raised_at INTEGER NOT NULL,
     acked_by TEXT,
     acked_at INTEGER
   );
   CREATE INDEX wall_alarms_open ON wall_alarms(wall, state);`,
  // 12: rooms as a record (who was in them: the right to their recordings), their recordings with each file's
  // SHA-256 (and the audit entry that holds it), and the mediation cases with their agreement confirmations.
  `CREATE TABLE room_records (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     title TEXT NOT NULL,
     unit TEXT NOT NULL,
     host INTEGER,
     members TEXT NOT NULL DEFAULT '[]',
     created_at INTEGER NOT NULL,
     ended_at INTEGER
   );
   CREATE INDEX room_records_unit ON room_records(unit, created_at);
   CREATE TABLE room_recordings (
     id TEXT PRIMARY KEY,
     room TEXT NOT NULL REFERENCES room_records(id),
     unit TEXT NOT NULL,
     started_by INTEGER,
     started_at INTEGER NOT NULL,
     stopped_at INTEGER,
     duration_ms INTEGER,
     state TEXT NOT NULL,
     progress REAL NOT NULL DEFAULT 0,
     error TEXT,
     files TEXT NOT NULL DEFAULT '[]'
   );
   CREATE INDEX room_recordings_room ON room_recordings(room);
   CREATE TABLE mediation_cases (
     id INTEGER PRIMARY KEY,
     case_no TEXT NOT NULL UNIQUE,
     room TEXT REFERENCES room_records(id),
     unit TEXT NOT NULL,
     title TEXT NOT NULL,
     dispute_type TEXT NOT NULL,
     mediator INTEGER,
     mediator_name TEXT NOT NULL,
     parties TEXT NOT NULL DEFAULT '[]',
     started_at INTEGER NOT NULL,
     ended_at INTEGER,
     outcome TEXT,
     minutes TEXT NOT NULL DEFAULT '',
     agreement TEXT NOT NULL DEFAULT '',
     confirmations TEXT NOT NULL DEFAULT '[]',
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX mediation_cases_unit ON mediation_cases(unit, started_at);`,
];

/** checkCaseTwins names the accounts that differ only in case, which migration 5 cannot index. */
function checkCaseTwins(db: Database.Database, path: string): void {
  const twins = db.prepare('SELECT group_concat(username, \', \') AS names FROM users GROUP BY username COLLATE NOCASE HAVING count(*) > 1').all() as Array<{ names: string }>;
  if (twins.length > 0) {
    throw new Error(`database ${path}: usernames must be unique without regard to case, and these accounts differ only in case: ${twins.map((t) => t.names).join('; ')}. Rename or remove all but one of each (sqlite3 ${path} "UPDATE users SET username = ... WHERE id = ..."), then start again`);
  }
}

/** openDatabase opens (creating) the file and brings its schema up to date. */
export function openDatabase(path: string): Db {
  // The store holds sealed credentials, password hashes and the audit trail: for the gateway's user alone.
  if (path !== ':memory:') {
    privateDir(dirname(path));
    privateFile(path);
  }
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new Error(`database ${path} has schema version ${version}, newer than this gateway knows (${MIGRATIONS.length}): upgrade the gateway`);
  }
  for (let v = version; v < MIGRATIONS.length; v++) {
    const m = MIGRATIONS[v]!;
    const rebuild = typeof m !== 'string';
    if (v === 4) checkCaseTwins(db, path);
    if (rebuild) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        db.exec(typeof m === 'string' ? m : m.sql);
        if (rebuild) {
          const broken = db.pragma('foreign_key_check') as unknown[];
          if (broken.length > 0) throw new Error(`migration ${v + 1} would break ${broken.length} foreign key(s): ${JSON.stringify(broken.slice(0, 3))}`);
        }
        db.pragma(`user_version = ${v + 1}`);
      })();
    } finally {
      if (rebuild) db.pragma('foreign_keys = ON');
    }
  }
  return db;
}
