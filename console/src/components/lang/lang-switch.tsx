// The language switch: each language named in itself, as language menus do.
import { lang, LANGS, setLang, type Lang } from '../../i18n/i18n.js';

const NATIVE: Record<Lang, string> = { 'zh-CN': '中文', en: 'English' };

/** LangSwitch lets the user choose the console's language; the choice is kept in the browser. */
export function LangSwitch() {
  return (
    <select class="lang-switch" value={lang.value} onChange={(e) => setLang(e.currentTarget.value as Lang)} data-testid="lang-switch" aria-label="语言 / Language">
      {LANGS.map((l) => <option key={l} value={l}>{NATIVE[l]}</option>)}
    </select>
  );
}
