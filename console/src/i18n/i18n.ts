// The console's language: i18next with the zh-CN and English resources, a signal that re-renders every component
// that read a text when the user switches, and the one place where the gateway's error codes become sentences.
import i18next, { type TOptions } from 'i18next';
import { signal } from '@preact/signals';
import { zhCN } from './zh-CN.js';
import { en } from './en.js';

/** LANGS are the languages the console speaks, the first the default. */
export const LANGS = ['zh-CN', 'en'] as const;
export type Lang = (typeof LANGS)[number];

const STORE_KEY = 'seg.lang';

function initial(): Lang {
  try {
    const saved = localStorage.getItem(STORE_KEY);
    if (saved && (LANGS as readonly string[]).includes(saved)) return saved as Lang;
  } catch { /* storage refused: the default */ }
  return 'zh-CN';
}

const i18n = i18next.createInstance();
void i18n.init({
  lng: initial(),
  fallbackLng: 'zh-CN',
  resources: { 'zh-CN': { translation: zhCN }, en: { translation: en } },
  initAsync: false,
  interpolation: { escapeValue: false },
});

/** lang is the language shown; components that call t() during render re-render when it changes. */
export const lang = signal<Lang>(i18n.language as Lang);
if (typeof document !== 'undefined') document.documentElement.lang = lang.value;

/** setLang switches the console's language and keeps the choice for the next visit. */
export function setLang(next: Lang): void {
  void i18n.changeLanguage(next);
  try { localStorage.setItem(STORE_KEY, next); } catch { /* kept for this visit only */ }
  if (typeof document !== 'undefined') document.documentElement.lang = next;
  lang.value = next;
}

/** Said is a text to be said in the user's language: a resource key and its parameters. */
export interface Said {
  key: string;
  params?: Record<string, unknown>;
}

function isSaid(v: unknown): v is Said {
  return typeof v === 'object' && v !== null && typeof (v as Said).key === 'string';
}

/** t says a resource key in the current language; a parameter that is itself a Said is said first. */
export function t(key: string, params?: Record<string, unknown>): string {
  void lang.value; // read so that a change of language re-renders the reader
  if (!params) return i18n.t(key);
  const said: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) said[k] = isSaid(v) ? t(v.key, v.params) : v;
  return i18n.t(key, said as TOptions);
}

/** say says a Said. */
export function say(s: Said): string {
  return t(s.key, s.params);
}

/** has tells whether the resources hold a key (in the default language, which holds every key). */
export function has(key: string): boolean {
  return i18n.exists(key, { lng: 'zh-CN' });
}

/** dateTime writes a time as the user's locale writes it, 24-hour. */
export function dateTime(ms: number): string {
  return new Date(ms).toLocaleString(lang.value, { hour12: false });
}

/** number writes a count with the locale's grouping. */
export function num(n: number): string {
  return n.toLocaleString(lang.value);
}

/** ErrorLike is what the gateway answers with when it refuses: a stable code, a reason within it, and parameters. */
export interface ErrorLike {
  status: number;
  code: string;
  details?: Record<string, unknown>;
}

/**
 * errorSaid turns a gateway error into a Said: by its reason when the resources know it (errors.reason.<reason>),
 * else by its code (errors.code.<code>). The gateway's own message is for developers and logs; it is never shown.
 */
export function errorSaid(err: ErrorLike): Said {
  const reason = typeof err.details?.reason === 'string' ? err.details.reason : undefined;
  const params: Record<string, unknown> = { ...(err.details ?? {}) };
  if (typeof params.field === 'string') params.field = fieldName(params.field);
  if (typeof params.action === 'string') params.action = t(`actions.${params.action}`);
  if (reason && has(`errors.reason.${reason}`)) return { key: `errors.reason.${reason}`, params };
  if (has(`errors.code.${err.code}`)) return { key: `errors.code.${err.code}`, params };
  return { key: 'errors.code.unknown', params: { status: err.status } };
}

/** fieldName says a request field by its label (errors.field.<name>), or as it is. */
export function fieldName(field: string): string {
  const key = `errors.field.${field.replace(/^\//, '').replace(/\/\d+$/, '').replace(/\//g, '.')}`;
  return has(key) ? t(key) : field;
}

/** isErrorLike tells a gateway error (the client's ApiError, a WHEP refusal) from any other throw. */
function isErrorLike(err: unknown): err is ErrorLike {
  return typeof err === 'object' && err !== null && typeof (err as ErrorLike).code === 'string' && typeof (err as ErrorLike).status === 'number';
}

/** errorText says any failure in the user's language; a throw that is not the gateway's is said as unexpected. */
export function errorText(err: unknown): string {
  return say(isErrorLike(err) ? errorSaid(err) : { key: 'errors.code.unexpected' });
}

/** errorOf is errorSaid for any throw. */
export function errorOf(err: unknown): Said {
  return isErrorLike(err) ? errorSaid(err) : { key: 'errors.code.unexpected' };
}
