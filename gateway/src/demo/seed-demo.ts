// Seeds the demo city, its cameras and demo accounts into an empty catalog.
import type { Catalog } from '../catalog/catalog.js';
import { demoAccounts, generateDemoCatalog, type DemoAccount, type DemoSource } from '../catalog/demo-catalog.js';
import { hashPassword } from '../auth/password-hash.js';

/** seedDemo fills an empty catalog and returns the demo accounts. */
export async function seedDemo(catalog: Catalog, opts: { seed: number; cameras: number; password: string; source: DemoSource }): Promise<DemoAccount[]> {
  const demo = generateDemoCatalog(opts.seed, opts.cameras, opts.source);
  catalog.addUnits(demo.units);
  catalog.addCameras(demo.cameras);
  const accounts = demoAccounts(demo.units);
  const hash = await hashPassword(opts.password);
  for (const a of accounts) catalog.addUser(a, hash);
  catalog.load();
  return accounts;
}

/** listDemoAccounts returns the demo accounts of an already seeded catalog (they derive from the tree). */
export function listDemoAccounts(catalog: Catalog): DemoAccount[] {
  return demoAccounts([...catalog.tree().units()]).filter((a) => catalog.userWithHash(a.username));
}
