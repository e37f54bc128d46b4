// The camera map: every camera the user may see, placed by its latitude and longitude, gathered into clusters at city
// scale and coloured by state; a click opens a camera. The base map comes from the tile server the config names (an
// intranet map service); without one, the units' points are drawn on a plain background. Nothing is fetched from
// anywhere else.
import { useEffect, useRef, useState } from 'preact/hooks';
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import { api, type MapCamerasT } from '../api/client.js';
import { useAppState } from '../state/app-state.js';
import { UnitPicker } from '../components/unit-picker/unit-picker.js';
import { errorText, lang, num, t } from '../i18n/i18n.js';
import './map-page.css';

/** CELL is the side, in screen pixels, of the squares cameras are clustered in. */
const CELL = 56;
const STATE = ['online', 'offline', 'unknown'] as const;

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** MapPage shows the cameras on the map. */
export function MapPage() {
  const state = useAppState();
  const box = useRef<HTMLDivElement>(null);
  const map = useRef<L.Map | null>(null);
  const layer = useRef<L.LayerGroup | null>(null);
  const [data, setData] = useState<MapCamerasT | null>(null);
  const [unit, setUnit] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [shown, setShown] = useState({ clusters: 0, cameras: 0 });
  const settings = state.settings.value;
  const tiles = settings?.map.tileUrl ?? '';

  useEffect(() => {
    api.mapCameras(unit || undefined).then((d) => { setData(d); setError(null); }, (err: unknown) => { state.sessionEnded(err); setError(err); });
  }, [unit]);

  useEffect(() => {
    if (!box.current) return;
    const m = L.map(box.current, { zoomControl: false, attributionControl: false, preferCanvas: false, maxZoom: settings?.map.maxZoom ?? 18, minZoom: 3 });
    L.control.zoom({ zoomInTitle: t('map.zoomIn'), zoomOutTitle: t('map.zoomOut') }).addTo(m);
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: settings?.map.maxZoom ?? 18, attribution: settings?.map.attribution ?? '' }).addTo(m);
      // The attribution is the map service's own (no link to any site outside the network).
      L.control.attribution({ prefix: false }).addTo(m);
    }
    m.setView([28.2, 112.9], 9);
    map.current = m;
    layer.current = L.layerGroup().addTo(m);
    return () => { m.remove(); map.current = null; };
  }, [tiles, lang.value]);

  // The view fits the cameras when they arrive.
  useEffect(() => {
    const m = map.current;
    if (!m || !data || data.cameras.length === 0) return;
    let s = 90; let w = 180; let n = -90; let e = -180;
    for (const c of data.cameras) { s = Math.min(s, c[2]); n = Math.max(n, c[2]); w = Math.min(w, c[3]); e = Math.max(e, c[3]); }
    m.fitBounds([[s, w], [n, e]], { padding: [30, 30], maxZoom: 16 });
  }, [data, tiles, lang.value]);

  useEffect(() => {
    const m = map.current;
    const g = layer.current;
    if (!m || !g || !data) return;
    const draw = () => {
      g.clearLayers();
      const bounds = m.getBounds().pad(0.2);
      const cells = new Map<string, { lat: number; lon: number; n: number; st: [number, number, number]; one: MapCamerasT['cameras'][number] }>();
      for (const c of data.cameras) {
        if (!bounds.contains([c[2], c[3]])) continue;
        const p = m.latLngToContainerPoint([c[2], c[3]]);
        const k = `${Math.floor(p.x / CELL)}:${Math.floor(p.y / CELL)}`;
        const cell = cells.get(k) ?? { lat: 0, lon: 0, n: 0, st: [0, 0, 0], one: c };
        cell.lat += c[2]; cell.lon += c[3]; cell.n++; cell.st[c[4]]!++;
        cells.set(k, cell);
      }
      let clusters = 0;
      let singles = 0;
      for (const cell of cells.values()) {
        if (cell.n === 1) {
          const c = cell.one;
          singles++;
          const icon = L.divIcon({ className: 'map-pin', html: `<span class="map-dot map-${STATE[c[4]]}" data-testid="map-camera" data-camera="${escape(c[0])}" title="${escape(c[1])}"></span>`, iconSize: [14, 14] });
          L.marker([c[2], c[3]], { icon, keyboard: false }).addTo(g).bindPopup(() => {
            const div = document.createElement('div');
            div.className = 'map-popup';
            const name = document.createElement('strong');
            name.textContent = c[1];
            const open = document.createElement('button');
            open.textContent = t('map.open');
            open.className = 'link';
            open.dataset.testid = 'map-open';
            open.onclick = () => { state.show({ id: c[0], name: c[1] }); };
            div.append(name, document.createElement('br'), `${t(`health.state.${STATE[c[4]]}`)} · `, open);
            return div;
          });
          continue;
        }
        clusters++;
        const worst = cell.st[1] > 0 ? 'offline' : cell.st[0] > 0 ? 'online' : 'unknown';
        const size = Math.min(52, 24 + Math.log10(cell.n) * 10);
        const icon = L.divIcon({
          className: 'map-pin',
          html: `<span class="map-cluster map-${worst}" data-testid="map-cluster" data-count="${cell.n}" data-offline="${cell.st[1]}" style="width:${size}px;height:${size}px;line-height:${size}px" title="${escape(t('map.cluster', { n: cell.n }))}">${cell.n}</span>`,
          iconSize: [size, size],
        });
        L.marker([cell.lat / cell.n, cell.lon / cell.n], { icon, keyboard: false }).addTo(g)
          .on('click', () => m.setView([cell.lat / cell.n, cell.lon / cell.n], Math.min(m.getZoom() + 2, m.getMaxZoom())));
      }
      // Without a base map the units are drawn where their cameras are: the level that suits the zoom.
      if (!tiles) {
        const z = m.getZoom();
        const level = z < 10 ? 'county' : z < 13 ? 'township' : 'village';
        for (const u of data.units) {
          if (u.level !== level || !bounds.contains([u.latitude, u.longitude])) continue;
          L.marker([u.latitude, u.longitude], {
            icon: L.divIcon({ className: 'map-unit', html: `<span data-testid="map-unit" data-code="${escape(u.code)}">${escape(u.name)}</span>`, iconSize: [0, 0] }),
            interactive: false, keyboard: false,
          }).addTo(g);
        }
      }
      setShown({ clusters, cameras: singles });
    };
    draw();
    m.on('moveend', draw);
    return () => { m.off('moveend', draw); };
  }, [data, tiles, lang.value]);

  return (
    <section class="map-page" data-testid="map-page" data-cameras={data?.cameras.length ?? ''} data-tiles={tiles ? 'true' : 'false'}>
      <div class="map-bar">
        <strong>{t('map.title')}</strong>
        <UnitPicker value={unit} onChange={setUnit} testid="map-unit" />
        {data && <span class="health-facts" data-testid="map-facts">{t('tree.found', { units: num(data.units.length), cameras: num(data.cameras.length) })}{data.withoutPosition > 0 ? ` · ${t('map.noPosition', { n: data.withoutPosition })}` : ''}</span>}
        <span class="map-legend"><span class="map-dot map-online" /> <span class="map-dot map-offline" /> <span class="map-dot map-unknown" /> {t('map.legend')}</span>
        {!tiles && <span class="health-facts" data-testid="map-no-tiles">{t('map.noTiles')}</span>}
        <span class="health-facts" data-testid="map-shown" data-clusters={shown.clusters} data-singles={shown.cameras} />
      </div>
      {error !== null && <p class="health-error" role="alert">{errorText(error)}</p>}
      <div class="map-box" ref={box} data-testid="map" />
    </section>
  );
}
