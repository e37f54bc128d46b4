// One physical screen of a wall: its pictures placed as the gateway lays them out (tiles, a maximized tile, the parts
// of roaming windows), each labelled (camera, unit, online state, alarm) or shown as a placeholder. A picture changes
// camera or stream without black: the new player starts behind the old one, and takes its place once it shows frames
// (a tour's next cameras are started before their turn).
import type { DisplayPictureT, DisplayStateT } from '../../../gateway/src/wall/wall-schemas.js';
import { TilePlayer, type StreamSource, type TileView } from '../components/tile/tile-player.js';
import { t } from '../i18n/i18n.js';

/** PROMOTE_MS is how long a new player may take to show a frame before it replaces the old one anyway. */
const PROMOTE_MS = 6000;

/** Layer is one player of a picture: the one shown, or the next one starting behind it. */
interface Layer {
  key: string;
  camera: string;
  profile: 'main' | 'sub';
  video: HTMLVideoElement;
  player: TilePlayer;
  view: TileView;
  frames: number;
  firstFrameAt: number | null;
  lastFrameAt: number | null;
  createdAt: number;
}

/** Switch is a record of one change of a picture, for the tests and the benchmark: was the new player ready, the gap. */
export interface SwitchRecord { key: string; camera: string; at: number; ready: boolean; gapMs: number | null }

/** ScreenStats are what window.__display shows of the screen. */
export interface ScreenStats {
  version: number;
  pictures: Array<{ key: string; camera: string | null; profile: string | null; status: string; frames: number; live: boolean; next: string | null; label: string; firstFrameAt: number | null }>;
  switches: SwitchRecord[];
}

class PictureView {
  readonly el: HTMLDivElement;
  readonly #label: HTMLDivElement;
  readonly #placeholder: HTMLDivElement;
  #source: StreamSource;
  #current: Layer | null = null;
  #next: Layer | null = null;
  #want: string | null = null;
  #pic: DisplayPictureT | null = null;
  #promoteTimer?: number;
  readonly switches: SwitchRecord[];

  constructor(parent: HTMLElement, source: StreamSource, switches: SwitchRecord[]) {
    this.#source = source;
    this.switches = switches;
    this.el = document.createElement('div');
    this.el.className = 'pic';
    this.#placeholder = document.createElement('div');
    this.#placeholder.className = 'pic-placeholder';
    this.#label = document.createElement('div');
    this.#label.className = 'pic-label';
    this.el.append(this.#placeholder, this.#label);
    parent.append(this.el);
  }

  update(p: DisplayPictureT): void {
    this.#pic = p;
    const r = p.rect;
    Object.assign(this.el.style, { left: `${r.x * 100}%`, top: `${r.y * 100}%`, width: `${r.w * 100}%`, height: `${r.h * 100}%`, zIndex: String(p.z), display: p.hidden ? 'none' : '' });
    this.el.dataset.key = p.key;
    this.el.classList.toggle('alarm', p.alarm !== undefined);
    const m = p.media;
    this.#want = m ? `${m.camera}/${m.profile}` : null;
    if (!m) {
      this.#drop('current');
      this.#drop('next');
    } else if (this.#current?.key === this.#want) {
      // Shown already: the upcoming camera (a tour's next) is started behind it.
      const n = p.next;
      if (n && this.#next?.key !== `${n.camera}/${n.profile}`) {
        this.#drop('next');
        this.#next = this.#layer(n.camera, n.profile);
      } else if (!n && this.#next) this.#drop('next');
    } else if (this.#next?.key === this.#want) {
      this.#promoteWhenReady();
    } else {
      this.#drop('next');
      this.#next = this.#layer(m.camera, m.profile);
      if (!this.#current) this.#promote();
      else this.#promoteWhenReady();
    }
    this.#render();
  }

  /** restartStalled starts again every player not showing frames (after the gateway came back). */
  restartStalled(): void {
    for (const which of ['current', 'next'] as const) {
      const l = which === 'current' ? this.#current : this.#next;
      if (!l || l.view.status === 'live') continue;
      this.#drop(which);
      const fresh = this.#layer(l.camera, l.profile);
      if (which === 'current') { this.#current = fresh; fresh.video.classList.add('shown'); } else this.#next = fresh;
    }
    this.#render();
  }

  #layer(camera: string, profile: 'main' | 'sub'): Layer {
    const video = document.createElement('video');
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    video.className = 'pic-video';
    this.el.prepend(video);
    const layer: Layer = {
      key: `${camera}/${profile}`, camera, profile, video, view: { status: 'connecting', message: null }, frames: 0,
      firstFrameAt: null, lastFrameAt: null, createdAt: performance.now(),
      player: undefined as unknown as TilePlayer,
    };
    layer.player = new TilePlayer(video, camera, profile, {
      source: this.#source,
      onView: (v) => {
        layer.view = v;
        if (v.status === 'live' && layer === this.#next && this.#want === layer.key) this.#promote();
        this.#render();
      },
      onSessionEnded: () => undefined,
    });
    const onFrame = () => {
      if (!layer.video.isConnected) return;
      const now = performance.now();
      layer.frames++;
      layer.firstFrameAt ??= now;
      layer.lastFrameAt = now;
      if (layer === this.#current) {
        const s = this.switches.findLast((x) => x.key === this.el.dataset.key);
        if (s && s.camera === layer.camera && s.gapMs === null) s.gapMs = Math.max(0, now - s.at);
      }
      layer.video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
    layer.player.start();
    return layer;
  }

  #promoteWhenReady(): void {
    if (this.#next && this.#next.view.status === 'live') return this.#promote();
    window.clearTimeout(this.#promoteTimer);
    this.#promoteTimer = window.setTimeout(() => { if (this.#next?.key === this.#want) this.#promote(); }, PROMOTE_MS);
  }

  #promote(): void {
    window.clearTimeout(this.#promoteTimer);
    const next = this.#next;
    if (!next) return;
    const old = this.#current;
    const ready = next.view.status === 'live' && next.frames > 0;
    // The gap is from the old picture's last frame to the new one's first frame shown in its place.
    const at = old?.lastFrameAt ?? performance.now();
    this.switches.push({ key: this.el.dataset.key ?? '', camera: next.camera, at, ready, gapMs: null });
    if (this.switches.length > 500) this.switches.shift();
    this.#next = null;
    this.#current = next;
    next.video.classList.add('shown');
    if (old) this.#dispose(old);
    this.#render();
  }

  #drop(which: 'current' | 'next'): void {
    const l = which === 'current' ? this.#current : this.#next;
    if (!l) return;
    this.#dispose(l);
    if (which === 'current') this.#current = null; else this.#next = null;
  }

  #dispose(l: Layer): void {
    l.player.dispose();
    l.video.remove();
  }

  #render(): void {
    const p = this.#pic;
    if (!p) return;
    const cur = this.#current;
    const live = cur?.view.status === 'live';
    let placeholder = '';
    if (p.status === 'denied') placeholder = t('display.denied');
    else if (p.status === 'empty') placeholder = '';
    else if (cur?.view.status === 'denied') placeholder = t('display.denied');
    else if (p.online === 'offline' && !live) placeholder = t('display.offline');
    else if (!live) placeholder = t('display.connecting');
    this.#placeholder.textContent = placeholder;
    this.#placeholder.style.display = placeholder || p.status === 'empty' ? '' : 'none';
    this.el.classList.toggle('empty', p.status === 'empty');
    this.el.classList.toggle('denied', p.status === 'denied');
    const l = p.label;
    const parts: string[] = [];
    if (l && p.status === 'ok') parts.push(l.name, l.unitName);
    if (p.status === 'ok' && p.online === 'offline') parts.push(t('display.offlineBadge'));
    if (p.alarm !== undefined) parts.unshift(t('display.alarm'));
    this.#label.textContent = parts.filter(Boolean).join(' · ');
    this.#label.style.display = parts.length ? '' : 'none';
    this.el.dataset.camera = cur?.camera ?? '';
    this.el.dataset.status = p.status === 'ok' ? (cur?.view.status ?? 'connecting') : p.status;
  }

  stats(): ScreenStats['pictures'][number] {
    const cur = this.#current;
    return {
      key: this.el.dataset.key ?? '', camera: cur?.camera ?? null, profile: cur?.profile ?? null, status: this.el.dataset.status ?? '',
      frames: cur?.frames ?? 0, live: cur?.view.status === 'live', next: this.#next?.camera ?? null, label: this.#label.textContent ?? '',
      // In epoch milliseconds, so that a benchmark can set it against the moment it sent its command.
      firstFrameAt: cur?.firstFrameAt == null ? null : performance.timeOrigin + cur.firstFrameAt,
    };
  }

  dispose(): void {
    window.clearTimeout(this.#promoteTimer);
    this.#drop('current');
    this.#drop('next');
    this.el.remove();
  }
}

/** DisplayScreen draws the state of one screen into root. */
export class DisplayScreen {
  readonly #root: HTMLElement;
  readonly #source: StreamSource;
  readonly #pictures = new Map<string, PictureView>();
  readonly switches: SwitchRecord[] = [];
  #version = 0;

  constructor(root: HTMLElement, source: StreamSource) {
    this.#root = root;
    this.#source = source;
  }

  show(state: DisplayStateT, afterReconnect: boolean): void {
    this.#version = state.version;
    this.#root.dataset.version = String(state.version);
    this.#root.dataset.kind = state.kind;
    const seen = new Set<string>();
    for (const p of state.pictures) {
      seen.add(p.key);
      let v = this.#pictures.get(p.key);
      if (!v) {
        v = new PictureView(this.#root, this.#source, this.switches);
        this.#pictures.set(p.key, v);
      }
      v.update(p);
      if (afterReconnect) v.restartStalled();
    }
    for (const [k, v] of this.#pictures) if (!seen.has(k)) { v.dispose(); this.#pictures.delete(k); }
  }

  stats(): ScreenStats {
    return { version: this.#version, pictures: [...this.#pictures.values()].map((p) => p.stats()), switches: this.switches };
  }
}
