// Login throttling: an account is locked for a while after repeated wrong passwords, and an address that keeps
// failing is slowed down. Names that do not exist are counted like those that do, so the answers reveal nothing.

/** LoginGuardOptions set the thresholds. */
export interface LoginGuardOptions {
  /** maxFailures wrong passwords in a row lock the account for lockMs. */
  maxFailures: number;
  lockMs: number;
  /** maxPerAddress failed logins from one address within windowMs refuse further attempts until the window passes. */
  maxPerAddress: number;
  windowMs: number;
}

/** LoginRefusal says why an attempt is not even checked. */
export type LoginRefusal = { kind: 'locked' | 'throttled'; retryAfterMs: number };

/** LoginGuard keeps the counts in memory (per gateway process). */
export class LoginGuard {
  #opts: LoginGuardOptions;
  #accounts = new Map<string, { failures: number; lockedUntil: number }>();
  #addresses = new Map<string, number[]>();

  constructor(opts: LoginGuardOptions) {
    this.#opts = opts;
  }

  /** check says whether an attempt may go ahead. */
  check(username: string, address: string, now = Date.now()): LoginRefusal | undefined {
    const recent = this.#recent(address, now);
    if (recent.length >= this.#opts.maxPerAddress) return { kind: 'throttled', retryAfterMs: recent[0]! + this.#opts.windowMs - now };
    const a = this.#accounts.get(username.toLowerCase());
    if (a && a.lockedUntil > now) return { kind: 'locked', retryAfterMs: a.lockedUntil - now };
    return undefined;
  }

  /** failed counts a wrong password; it returns true when this one locked the account. */
  failed(username: string, address: string, now = Date.now()): boolean {
    const recent = this.#recent(address, now);
    recent.push(now);
    this.#addresses.set(address, recent);
    const key = username.toLowerCase();
    const a = this.#accounts.get(key) ?? { failures: 0, lockedUntil: 0 };
    if (a.lockedUntil <= now && a.lockedUntil !== 0) a.failures = 0;
    a.failures++;
    let locked = false;
    if (a.failures >= this.#opts.maxFailures) {
      a.lockedUntil = now + this.#opts.lockMs;
      a.failures = 0;
      locked = true;
    }
    this.#accounts.set(key, a);
    if (this.#accounts.size > 100_000) this.#prune(now);
    return locked;
  }

  /** succeeded clears an account's count. */
  succeeded(username: string): void {
    this.#accounts.delete(username.toLowerCase());
  }

  /** unlock lifts a lock (an administrator's decision). */
  unlock(username: string): void {
    this.#accounts.delete(username.toLowerCase());
  }

  #recent(address: string, now: number): number[] {
    const list = (this.#addresses.get(address) ?? []).filter((t) => now - t < this.#opts.windowMs);
    if (list.length === 0) this.#addresses.delete(address);
    else this.#addresses.set(address, list);
    return list;
  }

  #prune(now: number): void {
    for (const [k, a] of this.#accounts) if (a.lockedUntil < now) this.#accounts.delete(k);
  }
}
