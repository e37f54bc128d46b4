// The online rate of a unit as a coloured figure: green at 95% and above, amber from 80%, red below.
import type { UnitHealthT } from '../../api/client.js';
import './health.css';

/** rateClass is the colour band of an online rate. */
export function rateClass(h: UnitHealthT): string {
  if (h.total === 0 || h.online + h.offline === 0) return 'rate-none';
  if (h.rate >= 0.95) return 'rate-good';
  if (h.rate >= 0.8) return 'rate-warn';
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
      title={`在线 ${health.online} / 离线 ${health.offline} / 未检 ${health.unknown} / 共 ${health.total}`}>
      {known ? percent(health.rate) : '—'}
    </span>
  );
}
