// Spreadsheet formula injection (CSV injection): what our CSV files guard, and how an import reads the guard back.

/** FORMULA_START is what makes a spreadsheet read a cell as a formula (after any apostrophes already guarding it). */
const FORMULA_START = /^'*[=+\-@\t\r]/;
const GUARDED = /^'+[=+\-@\t\r]/;

/**
 * guardFormula prefixes an apostrophe to text a spreadsheet would run as a formula (=, +, -, @, tab, CR), so that a
 * camera named "=HYPERLINK(...)" is shown, not run, when an export is opened in Excel or WPS. Text already starting
 * with apostrophes before such a character gets one more, so that unguardFormula gives back exactly what was there.
 */
export function guardFormula(s: string): string {
  return FORMULA_START.test(s) ? `'${s}` : s;
}

/** unguardFormula undoes guardFormula: one leading apostrophe before a formula character is dropped. */
export function unguardFormula(s: string): string {
  return GUARDED.test(s) ? s.slice(1) : s;
}
