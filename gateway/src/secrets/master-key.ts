// The master key: created once (0600), from which every purpose derives its own key with HKDF.
import { hkdfSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** KeyPurpose names what a derived key is for; one purpose never reuses another's key. */
export type KeyPurpose = 'media-token' | 'camera-credentials' | 'audit-chain' | 'webhook-secrets';

/** MasterKey derives purpose keys. */
export class MasterKey {
  #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new TypeError(`master key must be 32 bytes, got ${key.length}`);
    this.#key = key;
  }

  /** load reads an existing key file; it throws when there is none (a tool that checks must never make a new key). */
  static load(path: string): MasterKey {
    const hex = readFileSync(path, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new TypeError(`${path} does not hold a 64-digit hex key`);
    return new MasterKey(Buffer.from(hex, 'hex'));
  }

  /** loadOrCreate reads the key file, creating it with a fresh random key when it does not exist. */
  static loadOrCreate(path: string): MasterKey {
    try {
      const hex = readFileSync(path, 'utf8').trim();
      if (!/^[0-9a-f]{64}$/.test(hex)) throw new TypeError(`${path} does not hold a 64-digit hex key`);
      // A key others can read protects nothing: refuse it rather than use it.
      if ((statSync(path).mode & 0o077) !== 0) throw new Error(`${path} is readable by other users (mode ${(statSync(path).mode & 0o777).toString(8)}): chmod 600 it`);
      return new MasterKey(Buffer.from(hex, 'hex'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const key = randomBytes(32);
      writeFileSync(path, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
      return new MasterKey(key);
    }
  }

  /** derive returns the 32-byte key of a purpose. */
  derive(purpose: KeyPurpose): Buffer {
    return Buffer.from(hkdfSync('sha256', this.#key, Buffer.alloc(0), `sharp-eyes/${purpose}`, 32));
  }
}
