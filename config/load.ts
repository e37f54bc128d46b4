// Loads the configuration: defaults, then a JSON file, then SEG__SECTION__KEY environment variables; validated whole.
import { readFileSync } from 'node:fs';
import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigSchema, type Config } from './schema.js';

// TypeBox checks formats only once they are registered.
if (!FormatRegistry.Has('uri')) {
  FormatRegistry.Set('uri', (v) => {
    try {
      return /^https?:$/.test(new URL(v).protocol);
    } catch {
      return false;
    }
  });
}

/** ConfigError names the key, the value and what was expected; it stops the gateway at start. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: Array<{ key: string; value: unknown; expected: string }>;

  constructor(source: string, problems: Array<{ key: string; value: unknown; expected: string }>) {
    super(`invalid configuration (${source}):\n` + problems.map((p) => `  - ${p.key}: ${JSON.stringify(p.value)} — ${p.expected.startsWith('no such key') ? '' : 'expected '}${p.expected}`).join('\n'));
    this.problems = problems;
  }
}

/** ENV_PREFIX starts every environment override: SEG__HTTP__PORT=9000 sets http.port. */
export const ENV_PREFIX = 'SEG__';

function camel(part: string): string {
  return part.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function parseEnvValue(text: string): unknown {
  if (text === 'true' || text === 'false') return text === 'true';
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function describeExpected(schema: { anyOf?: Array<{ const?: unknown }> }, message: string): string {
  const choices = schema.anyOf?.map((s) => s.const);
  if (choices && choices.every((c) => c !== undefined)) return `one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`;
  return message.replace(/^Expected /, '');
}

/** envName is the environment variable that sets a key: http.publicUrl is SEG__HTTP__PUBLIC_URL. */
export function envName(path: readonly string[]): string {
  return ENV_PREFIX + path.map((p) => p.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()).join('__');
}

/** editDistance is the Damerau-Levenshtein distance (adjacent swaps count once), compared without case or underscores. */
function editDistance(a: string, b: string): number {
  const x = a.toLowerCase().replace(/_/g, '');
  const y = b.toLowerCase().replace(/_/g, '');
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) => Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[x.length]![y.length]!;
}

type SchemaNode = { properties?: Record<string, SchemaNode> };

/** closestKey names the key of the schema's section that an unknown key most likely meant, or undefined. */
export function closestKey(path: readonly string[]): string[] | undefined {
  let node: SchemaNode | undefined = ConfigSchema as unknown as SchemaNode;
  for (const p of path.slice(0, -1)) node = node?.properties?.[p];
  const wrong = path[path.length - 1]!;
  const candidates = Object.keys(node?.properties ?? {});
  let best: { key: string; d: number } | undefined;
  for (const key of candidates) {
    const d = editDistance(wrong, key);
    if (!best || d < best.d) best = { key, d };
  }
  // A suggestion far from what was written would mislead more than it helps.
  if (!best || best.d > Math.max(2, Math.floor(best.key.length / 3))) return undefined;
  return [...path.slice(0, -1), best.key];
}

function unknownKey(path: readonly string[], envPath: readonly string[] | undefined): string {
  const near = closestKey(path);
  const where = envPath ? ` (from ${envName(envPath)})` : '';
  if (!near) return `no such key${where}: check its spelling against config/schema.ts`;
  return `no such key${where}: did you mean ${near.join('.')}${envPath ? ` (${envName(near)})` : ''}?`;
}

/** LoadOptions name where the configuration comes from. */
export interface LoadOptions {
  file?: string;
  env?: Record<string, string | undefined>;
  /** overrides are applied last (tests and CLI flags). */
  overrides?: Record<string, unknown>;
}

function merge(into: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(from)) {
    if (v && typeof v === 'object' && !Array.isArray(v) && into[k] && typeof into[k] === 'object') merge(into[k] as Record<string, unknown>, v as Record<string, unknown>);
    else into[k] = v;
  }
}

/** loadConfig reads, merges and validates; it throws ConfigError listing every problem. */
export function loadConfig(opts: LoadOptions = {}): Config {
  const raw: Record<string, unknown> = {};
  const sources: string[] = ['defaults'];
  if (opts.file) {
    let text: string;
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (err) {
      throw new ConfigError(opts.file, [{ key: '(file)', value: opts.file, expected: `a readable JSON file (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})` }]);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(opts.file, [{ key: '(file)', value: opts.file, expected: `valid JSON: ${(err as Error).message}` }]);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError(opts.file, [{ key: '(root)', value: parsed, expected: 'a JSON object' }]);
    }
    merge(raw, parsed as Record<string, unknown>);
    sources.push(opts.file);
  }
  const fromEnv = new Set<string>();
  for (const [name, value] of Object.entries(opts.env ?? {})) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    const path = name.slice(ENV_PREFIX.length).split('__').map(camel);
    setPath(raw, path, parseEnvValue(value));
    fromEnv.add(path.join('.'));
    if (!sources.includes('environment')) sources.push('environment');
  }
  if (opts.overrides) merge(raw, opts.overrides);
  const withDefaults = Value.Default(ConfigSchema, structuredClone(raw));
  const problems = [...Value.Errors(ConfigSchema, withDefaults)].map((e) => {
    const key = e.path.replace(/^\//, '').replace(/\//g, '.') || '(root)';
    const unexpected = e.message === 'Unexpected property';
    return {
      key,
      value: e.value,
      expected: unexpected ? unknownKey(key.split('.'), [...fromEnv].find((k) => k === key || k.startsWith(`${key}.`))?.split('.')) : describeExpected(e.schema as { anyOf?: Array<{ const?: unknown }> }, e.message),
    };
  });
  const c = withDefaults as Config;
  if (problems.length === 0 && c.console.rateWarn > c.console.rateGood) {
    problems.push({ key: 'console.rateWarn', value: c.console.rateWarn, expected: `at most console.rateGood (${c.console.rateGood}): amber starts below green` });
  }
  if (problems.length === 0 && c.console.map.tileUrl && !/^https?:\/\/[^\s]*\{z\}[^\s]*\{x\}[^\s]*\{y\}/.test(c.console.map.tileUrl)) {
    problems.push({ key: 'console.map.tileUrl', value: c.console.map.tileUrl, expected: 'an http(s) URL with {z}, {x} and {y} in it, in that order' });
  }
  if (problems.length > 0) {
    // Report each key once, with its first complaint: unions otherwise list every alternative.
    const seen = new Set<string>();
    throw new ConfigError(sources.join(' + '), problems.filter((p) => !seen.has(p.key) && seen.add(p.key)));
  }
  return withDefaults as Config;
}
