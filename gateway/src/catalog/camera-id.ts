// Camera ids as Sharp Eyes networks write them: GB/T 28181 device ids, 20 digits whose first six are the county's
// region code (GB/T 2260). The region an id names is part of the id, so it can be checked without asking the catalog.
import type { OrgTree } from '../access/org-tree.js';

/** GB_ID matches a GB/T 28181 device id. */
export const GB_ID = /^\d{20}$/;

/** gbRegionOf returns the 12-digit code of the county a GB/T 28181 id names, or undefined for another kind of id. */
export function gbRegionOf(id: string): string | undefined {
  return GB_ID.test(id) ? `${id.slice(0, 6)}000000` : undefined;
}

/**
 * idFitsReach says whether an administrator of unit may give a new camera this id: a GB/T 28181 id must name a county
 * on her line (above her unit or inside her subtree). Refusing the others by their digits alone means a foreign id is
 * refused whether or not it exists, so the answer never tells another county's catalog apart. Free-form ids carry no
 * region and are not checked here; the top of the tree may use any id.
 */
export function idFitsReach(tree: OrgTree, unit: string, id: string): boolean {
  if (unit === tree.root.code) return true;
  const region = gbRegionOf(id);
  if (region === undefined) return true;
  return tree.get(region) !== undefined && (tree.contains(unit, region) || tree.contains(region, unit));
}
