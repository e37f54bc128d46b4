// A believable, deterministic demo city: 6 counties, 95 townships, ~1,600 villages and their cameras.
import type { OrgUnit } from '../access/org-tree.js';
import type { CameraKind, NewCamera } from './catalog.js';

/** DemoSource says where the demo's cameras stream from (the simulator). */
export interface DemoSource {
  host: string;
  rtspPort: number;
  /** onvifPort serves every camera's ONVIF services (PTZ, snapshots). */
  onvifPort: number;
  username: string;
  password: string;
}

/** DemoCatalog is the generated tree and cameras. */
export interface DemoCatalog {
  units: OrgUnit[];
  cameras: NewCamera[];
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = '青云澜石桐柳安平宁河山阳溪泉枫松兴华丰源塘岭湾坪桥林凤龙沙白金玉东西南北新和顺福庆永康乐泰明'.split('');
const ROADS = ['人民', '解放', '建设', '中山', '朝阳', '新华', '和平', '滨江', '文化', '胜利', '团结', '迎宾'];
const TOWN_SPOTS: Array<[string, CameraKind]> = [
  ['政府广场', 'square'], ['派出所门口', 'entrance'], ['中心小学', 'school'], ['集贸市场', 'market'], ['汽车站', 'entrance'],
  ['卫生院', 'entrance'], ['主街东口', 'road'], ['主街西口', 'road'], ['文化广场', 'square'], ['河堤', 'river'],
];
const VILLAGE_SPOTS: Array<[string, CameraKind]> = [
  ['村口', 'entrance'], ['村委会', 'entrance'], ['文化广场', 'square'], ['主干道', 'road'], ['桥头', 'river'],
  ['小学门口', 'school'], ['卫生室', 'entrance'], ['水库', 'river'], ['老街', 'road'], ['祠堂', 'square'],
];
const COUNTY_SUFFIX: Array<[string, string]> = [['02', '区'], ['03', '区'], ['21', '县'], ['22', '县'], ['23', '县'], ['81', '市']];
const TOWNSHIPS_PER_COUNTY = [15, 17, 14, 18, 16, 15];

/** CITY_CODE is the region code of the demo city. */
export const CITY_CODE = '369000000000';

/** generateDemoCatalog builds the demo city with cameraCount cameras, the same for the same seed. */
export function generateDemoCatalog(seed: number, cameraCount: number, source: DemoSource): DemoCatalog {
  const rand = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const used = new Set<string>();
  const name = (suffix: string) => {
    for (let i = 0; ; i++) {
      const n = pick(SYLLABLES) + pick(SYLLABLES) + (i > 20 ? pick(SYLLABLES) : '') + suffix;
      if (!used.has(n)) {
        used.add(n);
        return n;
      }
    }
  };
  const units: OrgUnit[] = [{ code: CITY_CODE, parent: null, name: '云澜市', level: 'city' }];
  const slots: Array<{ unit: OrgUnit; weight: number; county: string }> = [];
  COUNTY_SUFFIX.forEach(([digits, suffix], ci) => {
    const countyCode = `3690${digits}000000`;
    const county: OrgUnit = { code: countyCode, parent: CITY_CODE, name: name(suffix), level: 'county' };
    units.push(county);
    slots.push({ unit: county, weight: 150, county: countyCode });
    for (let t = 1; t <= TOWNSHIPS_PER_COUNTY[ci]!; t++) {
      // GB/T 10114 ranges: 001-099 街道, 100-199 镇, 200-399 乡.
      const kind = t <= 3 ? ['街道', 0] : t <= 12 ? ['镇', 100] : ['乡', 200];
      const townCode = `${countyCode.slice(0, 6)}${String((kind[1] as number) + t).padStart(3, '0')}000`;
      const town: OrgUnit = { code: townCode, parent: countyCode, name: name(kind[0] as string), level: 'township' };
      units.push(town);
      slots.push({ unit: town, weight: 40, county: countyCode });
      const villages = 11 + Math.floor(rand() * 12);
      for (let v = 1; v <= villages; v++) {
        const community = kind[0] === '街道' || v <= 2;
        const villageCode = `${townCode.slice(0, 9)}${String((community ? 0 : 200) + v).padStart(3, '0')}`;
        const village: OrgUnit = { code: villageCode, parent: townCode, name: name(community ? '社区' : '村'), level: 'village' };
        units.push(village);
        slots.push({ unit: village, weight: 17.5, county: countyCode });
      }
    }
  });
  // Largest-remainder apportionment gives exactly cameraCount cameras in proportion to the weights.
  const total = slots.reduce((s, x) => s + x.weight, 0);
  const shares = slots.map((s) => (s.weight * cameraCount) / total);
  const counts = shares.map(Math.floor);
  let rest = cameraCount - counts.reduce((a, b) => a + b, 0);
  const order = shares.map((s, i) => [s - Math.floor(s), i] as const).sort((a, b) => b[0] - a[0]);
  for (let k = 0; rest > 0; k = (k + 1) % order.length, rest--) counts[order[k]![1]]!++;

  const serial = new Map<string, number>();
  const cameras: NewCamera[] = [];
  const base = `rtsp://${source.host}:${source.rtspPort}/cam`;
  slots.forEach((slot, i) => {
    const lat = 28.1 + rand() * 0.9;
    const lon = 115.6 + rand() * 1.1;
    for (let k = 0; k < counts[i]!; k++) {
      const n = (serial.get(slot.county) ?? 0) + 1;
      serial.set(slot.county, n);
      // GB/T 28181-style 20-digit id: county code, access unit, industry 00, type 132 (IPC), network 0, serial.
      const id = `${slot.county.slice(0, 6)}01001320${String(n).padStart(6, '0')}`;
      let label: string;
      let kind: CameraKind;
      if (slot.unit.level === 'county') {
        const a = pick(ROADS);
        let b = pick(ROADS);
        while (b === a) b = pick(ROADS);
        [label, kind] = [`${a}路与${b}路交叉口`, 'junction'];
      } else {
        const [spot, k2] = (slot.unit.level === 'township' ? TOWN_SPOTS : VILLAGE_SPOTS)[k % 10]!;
        [label, kind] = [`${spot}${k >= 10 ? Math.floor(k / 10) + 1 + '号' : ''}`, k2];
      }
      cameras.push({
        id, name: `${slot.unit.name}${label}`, unit: slot.unit.code, kind,
        latitude: Number((lat + (rand() - 0.5) * 0.02).toFixed(6)), longitude: Number((lon + (rand() - 0.5) * 0.02).toFixed(6)),
        mainUrl: `${base}/${id}/main`, subUrl: `${base}/${id}/sub`, onvifUrl: `http://${source.host}:${source.onvifPort}/onvif/${id}/device_service`, username: source.username, password: source.password,
      });
    }
  });
  return { units, cameras };
}

/** DemoAccount is a seeded login printed at start. */
export interface DemoAccount {
  username: string;
  displayName: string;
  unit: string;
  roles: Array<'admin' | 'operator' | 'viewer' | 'mediator'>;
}

/** demoAccounts returns the demo logins: city, county, township and two villages of the first township. */
export function demoAccounts(units: OrgUnit[]): DemoAccount[] {
  const county = units.find((u) => u.level === 'county')!;
  const township = units.find((u) => u.level === 'township' && u.parent === county.code)!;
  const villages = units.filter((u) => u.level === 'village' && u.parent === township.code);
  return [
    { username: 'city-admin', displayName: '市综治中心管理员', unit: CITY_CODE, roles: ['admin', 'operator'] },
    { username: 'county-admin', displayName: `${county.name}管理员`, unit: county.code, roles: ['admin', 'operator'] },
    { username: 'township-operator', displayName: `${township.name}值班员`, unit: township.code, roles: ['operator'] },
    { username: 'village-clerk', displayName: `${villages[0]!.name}网格员`, unit: villages[0]!.code, roles: ['viewer'] },
    { username: 'village-clerk-2', displayName: `${villages[1]!.name}网格员`, unit: villages[1]!.code, roles: ['viewer'] },
  ];
}
