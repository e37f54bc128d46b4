// Login throttling as trusted systems do it: wrong passwords lock an account for the address they came from, not for
// everyone (five guesses from five addresses must not lock out the city's administrator); an account that draws many
// failures from everywhere is slowed down for unfamiliar addresses; an address that keeps failing is refused. Names
// that do not exist are counted like those that do, so the answers reveal nothing.

/** LoginGuardOptions set the thresholds. */
export interface LoginGuardOptions {
  /** maxFailures wrong passwords in a row for one account from one address lock that pair for lockMs. */
  maxFailures: number;
  lockMs: number;
  /** maxPerAddress failed logins from one address within windowMs refuse further attempts from it until the window passes. */
  maxPerAddress: number;
  windowMs: number;
  /**
   * accountFailures failures of one account from all addresses within windowMs slow it down: an address it never
   * logged in from may try it once per accountDelayMs. Addresses it logged in from are not slowed.
   */
  accountFailures: number;
  accountDelayMs: number;
}

/** LoginRefusal says why an attempt is not even checked. */
export type LoginRefusal = { kind: 'locked' | 'throttled' | 'slowed'; retryAfterMs: number };

interface Pair {
  failures: number;
  lockedUntil: number;
}

interface Account {
  pairs: Map<string, Pair>;
  /** failures are the times of recent failures from any address. */
  failures: number[];
  /** lastSlowedAttempt is when an unfamiliar address last tried while the account is slowed. */
  lastSlowedAttempt: number;
  familiar: Set<string>;
}

const MAX_ACCOUNTS = 100_000;
const MAX_FAMILIAR = 16;

/** accountKey is how the guard names an account: usernames are unique without regard to case. */
export function accountKey(username: string): string {
  return username.normalize('NFKC').toLowerCase();
}

/** LoginGuard keeps the counts in memory (per gateway process). */
export class LoginGuard {
  #opts: LoginGuardOptions;
  #accounts = new Map<string, Account>();
  #addresses = new Map<string, number[]>();

  constructor(opts: LoginGuardOptions) {
    this.#opts = opts;
  }

  /** check says whether an attempt may go ahead; an admitted attempt of a slowed account takes the account's turn. */
  check(username: string, address: string, now = Date.now()): LoginRefusal | undefined {
    const recent = this.#recent(address, now);
    if (recent.length >= this.#opts.maxPerAddress) return { kind: 'throttled', retryAfterMs: recent[0]! + this.#opts.windowMs - now };
    const a = this.#accounts.get(accountKey(username));
    if (!a) return undefined;
    const pair = a.pairs.get(address);
    if (pair && pair.lockedUntil > now) return { kind: 'locked', retryAfterMs: pair.lockedUntil - now };
    a.failures = a.failures.filter((t) => now - t < this.#opts.windowMs);
    if (a.failures.length >= this.#opts.accountFailures && !a.familiar.has(address)) {
      const wait = a.lastSlowedAttempt + this.#opts.accountDelayMs - now;
      if (wait > 0) return { kind: 'slowed', retryAfterMs: wait };
      a.lastSlowedAttempt = now;
    }
    return undefined;
  }

  /** failed counts a wrong password; it returns true when this one locked the account for this address. */
  failed(username: string, address: string, now = Date.now()): boolean {
    const recent = this.#recent(address, now);
    recent.push(now);
    this.#addresses.set(address, recent);
    const a = this.#account(accountKey(username), now);
    a.failures.push(now);
    if (a.failures.length > this.#opts.accountFailures * 2) a.failures.splice(0, a.failures.length - this.#opts.accountFailures * 2);
    const pair = a.pairs.get(address) ?? { failures: 0, lockedUntil: 0 };
    if (pair.lockedUntil !== 0 && pair.lockedUntil <= now) pair.failures = 0;
    pair.failures++;
    let locked = false;
    if (pair.failures >= this.#opts.maxFailures) {
      pair.lockedUntil = now + this.#opts.lockMs;
      pair.failures = 0;
      locked = true;
    }
    a.pairs.set(address, pair);
    return locked;
  }

  /** succeeded clears the account's count for the address and remembers the address as familiar. */
  succeeded(username: string, address: string): void {
    const a = this.#accounts.get(accountKey(username)) ?? this.#account(accountKey(username), Date.now());
    a.pairs.delete(address);
    a.familiar.delete(address);
    a.familiar.add(address);
    if (a.familiar.size > MAX_FAMILIAR) a.familiar.delete(a.familiar.values().next().value!);
  }

  /** lockOf says whether an account is locked out (from how many addresses, until when) or slowed down, for its administrators. */
  lockOf(username: string, now = Date.now()): { addresses: number; until: number; slowed: boolean } | undefined {
    const a = this.#accounts.get(accountKey(username));
    if (!a) return undefined;
    const locked = [...a.pairs.values()].filter((p) => p.lockedUntil > now);
    const slowed = a.failures.filter((t) => now - t < this.#opts.windowMs).length >= this.#opts.accountFailures;
    if (locked.length === 0 && !slowed) return undefined;
    return { addresses: locked.length, until: Math.max(0, ...locked.map((p) => p.lockedUntil)), slowed };
  }

  /** unlock lifts every lock and slow-down of an account (an administrator's decision). */
  unlock(username: string): void {
    const a = this.#accounts.get(accountKey(username));
    if (!a) return;
    a.pairs.clear();
    a.failures = [];
  }

  #account(key: string, now: number): Account {
    let a = this.#accounts.get(key);
    if (!a) {
      if (this.#accounts.size >= MAX_ACCOUNTS) this.#prune(now);
      a = { pairs: new Map(), failures: [], lastSlowedAttempt: -Infinity, familiar: new Set() };
      this.#accounts.set(key, a);
    }
    return a;
  }

  #recent(address: string, now: number): number[] {
    const list = (this.#addresses.get(address) ?? []).filter((t) => now - t < this.#opts.windowMs);
    if (list.length === 0) this.#addresses.delete(address);
    else this.#addresses.set(address, list);
    return list;
  }

  #prune(now: number): void {
    for (const [k, a] of this.#accounts) {
      for (const [addr, p] of a.pairs) if (p.lockedUntil < now && p.failures === 0) a.pairs.delete(addr);
      if (a.pairs.size === 0 && a.familiar.size === 0 && a.failures.every((t) => now - t >= this.#opts.windowMs)) this.#accounts.delete(k);
    }
    // Still full (a flood of names): forget the oldest entries rather than grow.
    for (const k of this.#accounts.keys()) {
      if (this.#accounts.size < MAX_ACCOUNTS * 0.9) break;
      this.#accounts.delete(k);
    }
  }
}
