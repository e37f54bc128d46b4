// The online rate of a unit as a coloured figure: green, amber or red by the thresholds of the gateway's config
// (98% and 90% by default: a centre that reports 95.4% is not green).
import { signal } from '@preact/signals';
import type { UnitHealthT } from '../../api/client.js';
import { t } from '../../i18n/i18n.js';
import './health.css';

/** bands are the thresholds of the colours, from the gateway's config (console.rateGood, console.rateWarn). */
export const bands = signal({ good: 0.98, warn: 0.9 });

/** rateClass is the colour band of an online rate. */
export function rateClass(h: UnitHealthT): string {
  if (h.total === 0 || h.online + h.offline === 0) return 'rate-none';
  // Judged on the figure shown (one decimal): 97.96% shows as 98.0% and is green at a 98% threshold.
  const shown = Math.round(h.rate * 1000) / 1000;
  if (shown >= bands.value.good) return 'rate-good';
  if (shown >= bands.value.warn) return 'rate-warn';
  return 'rate-bad';
}

/** percent prints a rate with one decimal, as centres report it. */
export function percent(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}

/** Rate shows a unit's online rate; unknown until the first sweep has seen its cameras. */
export function Rate({ health }: { health: UnitHealthT }) {
  const known = health.online + health.offline > 0;
  return (
    <span class={`rate ${rateClass(health)}`} data-testid="unit-rate" data-online={health.online} data-offline={health.offline}
      title={t('health.rateTitle', { online: health.online, offline: health.offline, unknown: health.unknown, total: health.total })}>
      {known ? percent(health.rate) : '—'}
    </span>
  );
}
