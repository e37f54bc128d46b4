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
    super(`invalid configuration (${source}):\n` + problems.map((p) => `  - ${p.key}: ${JSON.stringify(p.value)} — expected ${p.expected}`).join('\n'));
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
  return message.replace(/^Expected /, '').replace(/^Unexpected property$/, 'no such key (check its spelling)');
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
  for (const [name, value] of Object.entries(opts.env ?? {})) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    setPath(raw, name.slice(ENV_PREFIX.length).split('__').map(camel), parseEnvValue(value));
    if (!sources.includes('environment')) sources.push('environment');
  }
  if (opts.overrides) merge(raw, opts.overrides);
  const withDefaults = Value.Default(ConfigSchema, structuredClone(raw));
  const problems = [...Value.Errors(ConfigSchema, withDefaults)].map((e) => ({
    key: e.path.replace(/^\//, '').replace(/\//g, '.') || '(root)',
    value: e.value,
    expected: describeExpected(e.schema as { anyOf?: Array<{ const?: unknown }> }, e.message),
  }));
  if (problems.length > 0) {
    // Report each key once, with its first complaint: unions otherwise list every alternative.
    const seen = new Set<string>();
    throw new ConfigError(sources.join(' + '), problems.filter((p) => !seen.has(p.key) && seen.add(p.key)));
  }
  return withDefaults as Config;
}
