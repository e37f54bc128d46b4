// Prometheus metrics: camera health, the online rate of the upper units, sweeps, live streams, the process itself.
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { OrgTree, UnitLevel } from '../access/org-tree.js';
import type { HealthMonitor } from './health-monitor.js';

/** MetricsSources are what the metrics read at scrape time. */
export interface MetricsSources {
  tree: OrgTree;
  health: Pick<HealthMonitor, 'unit' | 'stats' | 'lastSweep'>;
  streams: () => Array<{ state: string; viewers: number }>;
  /** unitLevels are the levels whose units get their own series. */
  unitLevels: readonly UnitLevel[];
}

/** createMetrics builds a registry whose values are read from the sources at each scrape. */
export function createMetrics(src: MetricsSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sge_' });
  const root = src.tree.root.code;
  const levels = new Set(src.unitLevels);
  const units = () => src.tree.units().filter((u) => levels.has(u.level));

  new Gauge({
    name: 'sge_cameras', help: 'Cameras in the catalog by liveness', labelNames: ['state'], registers: [registry],
    collect() {
      const h = src.health.unit(root);
      this.set({ state: 'online' }, h.online);
      this.set({ state: 'offline' }, h.offline);
      this.set({ state: 'unknown' }, h.unknown);
    },
  });
  new Gauge({
    name: 'sge_cameras_credentials_rejected', help: 'Cameras that answer but refuse their stored credentials (counted online)', registers: [registry],
    collect() {
      this.set(src.health.unit(root).credentialsRejected);
    },
  });
  new Gauge({
    name: 'sge_unit_cameras', help: 'Cameras in the subtree of an org unit', labelNames: ['unit', 'name', 'level'], registers: [registry],
    collect() {
      this.reset();
      for (const u of units()) this.set({ unit: u.code, name: u.name, level: u.level }, src.health.unit(u.code).total);
    },
  });
  new Gauge({
    name: 'sge_unit_cameras_online', help: 'Online cameras in the subtree of an org unit', labelNames: ['unit', 'name', 'level'], registers: [registry],
    collect() {
      this.reset();
      for (const u of units()) this.set({ unit: u.code, name: u.name, level: u.level }, src.health.unit(u.code).online);
    },
  });
  new Gauge({
    name: 'sge_unit_online_ratio', help: 'Online rate of an org unit: online / all cameras of its subtree', labelNames: ['unit', 'name', 'level'], registers: [registry],
    collect() {
      this.reset();
      for (const u of units()) this.set({ unit: u.code, name: u.name, level: u.level }, src.health.unit(u.code).rate);
    },
  });
  new Counter({
    name: 'sge_health_sweeps_total', help: 'Health sweeps completed', registers: [registry],
    collect() {
      this.reset();
      this.inc(src.health.stats.sweeps);
    },
  });
  new Counter({
    name: 'sge_health_probes_total', help: 'Health probes by result', labelNames: ['result'], registers: [registry],
    collect() {
      this.reset();
      this.inc({ result: 'ok' }, src.health.stats.probesOk);
      this.inc({ result: 'failed' }, src.health.stats.probesFailed);
    },
  });
  new Gauge({
    name: 'sge_health_last_sweep_seconds', help: 'Duration of the last complete sweep', registers: [registry],
    collect() {
      const s = src.health.lastSweep;
      if (s) this.set(s.durationMs / 1000);
    },
  });
  new Gauge({
    name: 'sge_health_last_sweep_timestamp_seconds', help: 'When the last complete sweep began (Unix time)', registers: [registry],
    collect() {
      const s = src.health.lastSweep;
      if (s) this.set(s.startedAt / 1000);
    },
  });
  new Gauge({
    name: 'sge_health_backing_off', help: 'Failing cameras skipped by the last sweep because they back off', registers: [registry],
    collect() {
      const s = src.health.lastSweep;
      if (s) this.set(s.backingOff);
    },
  });
  new Gauge({
    name: 'sge_streams', help: 'Live streams by state', labelNames: ['state'], registers: [registry],
    collect() {
      this.reset();
      const counts = new Map<string, number>();
      for (const s of src.streams()) counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
      for (const state of ['starting', 'live', 'offline', 'failed']) this.set({ state }, counts.get(state) ?? 0);
    },
  });
  new Gauge({
    name: 'sge_stream_viewers', help: 'Viewers of all live streams', registers: [registry],
    collect() {
      this.set(src.streams().reduce((n, s) => n + s.viewers, 0));
    },
  });
  return registry;
}
