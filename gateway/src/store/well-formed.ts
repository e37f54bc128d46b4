// Text the store can keep as it came: UTF-16 with no lone surrogate. SQLite stores UTF-8, which has no way to write
// one, so such a string would read back changed (as U+FFFD) and break every hash taken over it.

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const LONE_SURROGATES = /[\uD800-\uDFFF]/gu;

/** isWellFormed says whether text holds no lone surrogate. */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/** wellFormed replaces each lone surrogate by U+FFFD, which is what the store would read back. */
export function wellFormed(text: string): string {
  return LONE_SURROGATE.test(text) ? text.replace(LONE_SURROGATES, '\uFFFD') : text;
}

/** wellFormedDeep applies wellFormed to every string of a JSON value (keys included). */
export function wellFormedDeep<T>(value: T): T {
  if (typeof value === 'string') return wellFormed(value) as T;
  if (Array.isArray(value)) return value.map((v) => wellFormedDeep(v)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [wellFormed(k), wellFormedDeep(v)])) as T;
  }
  return value;
}

/** illFormedPath returns the path of the first string (or key) of value that holds a lone surrogate, or undefined. */
export function illFormedPath(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return isWellFormed(value) ? undefined : path || '(value)';
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = illFormedPath(v, `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  // Plain data only: a request whose body is a stream (an upload) is checked where it is read.
  if (value && typeof value === 'object' && (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null)) {
    for (const [k, v] of Object.entries(value)) {
      const at = path ? `${path}.${k}` : k;
      if (!isWellFormed(k)) return at;
      const found = illFormedPath(v, at);
      if (found) return found;
    }
  }
  return undefined;
}
