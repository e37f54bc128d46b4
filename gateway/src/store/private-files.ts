// Files and folders only the gateway's own user may read: the store, its journal, live media, pid files.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';

/** privateDir creates a folder (and missing parents) that only the owner may enter; an existing one is left as it is. */
export function privateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
}

/**
 * privateFile makes sure a file exists with mode 0600, tightening one that a previous version created readable by
 * everyone (0644). SQLite gives its -wal and -shm files the mode of the database file, so they follow.
 */
export function privateFile(path: string): void {
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
  for (const companion of [`${path}-wal`, `${path}-shm`]) if (existsSync(companion)) chmodSync(companion, 0o600);
}
