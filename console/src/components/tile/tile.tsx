// One live tile: its camera's picture (played by a TilePlayer), a badge that says what the picture does, and its tools.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type CameraT, type Profile } from '../../api/client.js';
import { LATENCY_CLASS, TilePlayer, type PlaybackStats, type TileStatus, type TileView } from './tile-player.js';
import { PtzPanel, ptzError } from './ptz-panel.js';
import type { TileCamera } from '../../state/app-state.js';
import { say, t, type Said } from '../../i18n/i18n.js';
import { carries, TILE_DRAG } from '../grid/drag.js';
import { useKeyPtz } from './key-ptz.js';
import './tile.css';

const badge = (s: TileStatus) => t(`tile.status.${s}`);

/** Tile plays one camera. */
export function Tile({ camera, profile, index, selected, onSelect, onClose, onSessionEnded, debug, visible, style, maximized, ptzKey, onToggleMaximize, onDrop, onProfile, flash }: {
  camera: TileCamera | null;
  profile: Profile;
  index: number;
  selected: boolean;
  onSelect: () => void;
  onClose: () => void;
  onSessionEnded: (err: unknown) => void;
  /** visible is false while the tile is off screen (another page, a smaller split, another tile maximized). */
  visible: boolean;
  style: Record<string, string>;
  maximized: boolean;
  /** ptzKey is the arrow or zoom key held on this (selected) tile. */
  ptzKey: string | null;
  onToggleMaximize: () => void;
  onDrop: (e: DragEvent) => void;
  onProfile: (p: Profile) => void;
  /** flash, when it changes, draws the eye to the tile (the camera asked for again plays here). */
  flash?: number;
  /** debug shows the playback figures over the picture (administrators). */
  debug?: boolean;
}) {
  const playerRef = useRef<TilePlayer | null>(null);
  const [stats, setStats] = useState<PlaybackStats | null>(null);
  const [showStats, setShowStats] = useState(false);
  useEffect(() => {
    if (!debug || !showStats) return;
    const t = window.setInterval(() => {
      playerRef.current?.stats().then(setStats, () => undefined);
    }, 1000);
    return () => window.clearInterval(t);
  }, [debug, showStats, camera?.id, profile]);
  const video = useRef<HTMLVideoElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const [over, setOver] = useState(false);
  const [flashing, setFlashing] = useState(false);
  useEffect(() => {
    if (flash === undefined) return;
    setFlashing(true);
    const timer = window.setTimeout(() => setFlashing(false), 1200);
    return () => window.clearTimeout(timer);
  }, [flash]);
  useEffect(() => { playerRef.current?.setVisible(visible); }, [visible]);
  // The view belongs to the player of one camera and profile: until the next camera's player reports, the tile shows
  // "connecting", never what the previous camera's picture did.
  const [view, setView] = useState<(TileView & { of: string }) | null>(null);
  const current = camera ? `${camera.id}/${profile}` : '';
  const shown: TileView = view && view.of === current ? view : { status: 'connecting', message: null };
  const { status, message, firstFrameMs, transport, fallback, detail } = shown;
  const [details, setDetails] = useState<CameraT | null>(null);
  const [ptzOpen, setPtzOpen] = useState(false);
  // A PTZ refusal is said over the picture for a few seconds; it is not the picture's state.
  const [ptzMessage, setPtzMessage] = useState<Said | null>(null);
  useEffect(() => {
    if (!ptzMessage) return;
    const t = window.setTimeout(() => setPtzMessage(null), 6000);
    return () => window.clearTimeout(t);
  }, [ptzMessage]);

  useEffect(() => {
    setDetails(null);
    setPtzOpen(false);
    setPtzMessage(null);
    if (camera) api.camera(camera.id).then(setDetails, () => undefined);
  }, [camera?.id]);

  useEffect(() => {
    const el = video.current;
    if (!camera || !el) return;
    const of = `${camera.id}/${profile}`;
    const player = new TilePlayer(el, camera.id, profile, {
      onView: (v) => setView({ ...v, of }),
      onSessionEnded,
    });
    playerRef.current = player;
    player.setVisible(visible);
    player.start();
    return () => {
      playerRef.current = null;
      player.dispose();
    };
  }, [camera?.id, profile]);

  useKeyPtz(camera && details?.mayPtz ? camera.id : null, ptzKey, (err) => { onSessionEnded(err); setPtzMessage(ptzError(err)); });

  return (
    <div ref={box} class={`tile ${selected ? 'tile-selected' : ''} ${over ? 'tile-over' : ''} ${flashing ? 'tile-flash' : ''} ${maximized ? 'tile-maximized' : ''}`} style={style}
      onClick={onSelect} onDblClick={(e) => { if (camera && !(e.target as HTMLElement).closest('.ptz, .tile-bar')) onToggleMaximize(); }}
      draggable={!!camera} onDragStart={(e) => {
        if ((e.target as HTMLElement).closest('.ptz')) { e.preventDefault(); return; }
        e.dataTransfer?.setData(TILE_DRAG, String(index));
        if (e.dataTransfer) e.dataTransfer.effectAllowed = 'move';
      }}
      onDragOver={(e) => { if (carries(e)) { e.preventDefault(); setOver(true); } }} onDragLeave={() => setOver(false)}
      onDrop={(e) => { setOver(false); onDrop(e); }}
      data-testid="tile" data-index={index} data-profile={camera ? profile : ''} data-visible={visible ? 'true' : 'false'}
      data-camera={camera?.id ?? ''} data-state={camera ? status : 'empty'} data-first-frame-ms={firstFrameMs ?? ''} data-transport={transport ?? ''}>
      <video ref={video} muted playsInline autoPlay data-testid="tile-video" />
      {camera ? (
        <>
          <div class="tile-bar">
            <span class={`tile-badge tile-${status}`} data-testid="tile-badge">{badge(status)}</span>
            <span class="tile-name" title={camera.id}>{camera.name}</span>
            {transport && (
              <span class={`tile-transport tile-transport-${transport}`} data-testid="tile-transport"
                title={fallback ? t('tile.fellBack', { why: fallback }) : t('tile.latency', { latency: LATENCY_CLASS[transport] })}>
                {transport === 'webrtc' ? 'WebRTC' : 'LL-HLS'} {LATENCY_CLASS[transport]}
              </span>
            )}
            <button class="tile-tool" title={t('tile.profileSwitch', { profile: t(`profile.${profile === 'main' ? 'sub' : 'main'}`) })} data-testid="tile-profile"
              onClick={(e) => { e.stopPropagation(); onProfile(profile === 'main' ? 'sub' : 'main'); }}>{profile === 'main' ? t('profile.main') : t('profile.sub')}</button>
            <button class="tile-tool" title={maximized ? t('tile.restore') : t('tile.maximize')} data-testid="tile-maximize"
              onClick={(e) => { e.stopPropagation(); onToggleMaximize(); }}>{maximized ? '❐' : '□'}</button>
            <button class="tile-tool" title={t('tile.fullscreen')} data-testid="tile-fullscreen"
              onClick={(e) => { e.stopPropagation(); if (document.fullscreenElement) void document.exitFullscreen(); else void box.current?.requestFullscreen().catch(() => undefined); }}>⛶</button>
            <a class="tile-tool" title={t('tile.snapshot')} href={api.snapshotUrl(camera.id, 'main')} target="_blank" rel="noopener"
              onClick={(e) => e.stopPropagation()} data-testid="tile-snapshot">📷</a>
            {details?.mayPtz && (
              <button class={`tile-tool ${ptzOpen ? 'tile-tool-on' : ''}`} title={t('tile.ptz')} data-testid="tile-ptz"
                onClick={(e) => { e.stopPropagation(); setPtzOpen(!ptzOpen); }}>{t('tile.ptzShort')}</button>
            )}
            {debug && (
              <button class={`tile-tool ${showStats ? 'tile-tool-on' : ''}`} title={t('tile.figures')} data-testid="tile-debug"
                onClick={(e) => { e.stopPropagation(); setShowStats(!showStats); }}>ⓘ</button>
            )}
            <button class="tile-close" title={t('common.close')} onClick={(e) => { e.stopPropagation(); onClose(); }}>×</button>
          </div>
          {ptzOpen && <PtzPanel camera={camera.id} video={video.current} onError={(err) => { onSessionEnded(err); setPtzMessage(ptzError(err)); }} />}
          {debug && showStats && stats && (
            <div class="tile-stats" data-testid="tile-stats" data-delay-ms={stats.delayMs ?? ''} data-glass-ms={stats.glassMs ?? ''}>
              <span>{stats.transport === 'webrtc' ? 'WebRTC' : 'LL-HLS'}{stats.codec ? ` ${stats.codec}` : ''}</span>
              {stats.width && <span>{stats.width}×{stats.height}{stats.fps ? ` ${Math.round(stats.fps)} fps` : ''}</span>}
              {stats.kbps !== undefined && <span>{stats.kbps} kbps</span>}
              {stats.delayMs !== undefined && <span>{t(stats.transport === 'webrtc' ? 'tile.stats.receiveDelay' : 'tile.stats.behindLive', { ms: stats.delayMs })}</span>}
              {stats.glassMs !== undefined && <span>{t('tile.stats.glass', { ms: stats.glassMs })}</span>}
              {stats.rttMs !== undefined && <span>RTT {stats.rttMs} ms</span>}
              {stats.lost !== undefined && <span>{t('tile.stats.lost', { n: stats.lost })}</span>}
            </div>
          )}
          {(ptzMessage ?? message) && <p class="tile-message" role="status" data-testid="tile-message" title={ptzMessage || !debug ? undefined : detail}>{say((ptzMessage ?? message)!)}</p>}
        </>
      ) : (
        <p class="tile-empty">{selected ? t('tile.pick') : ''}</p>
      )}
    </div>
  );
}
