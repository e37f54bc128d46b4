// One live tile: its camera's picture (played by a TilePlayer), a badge that says what the picture does, and its tools.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type CameraT, type Profile } from '../../api/client.js';
import { LATENCY_CLASS, TilePlayer, type PlaybackStats, type TileStatus, type TileView } from './tile-player.js';
import { PtzPanel, ptzError } from './ptz-panel.js';
import type { TileCamera } from '../../state/app-state.js';
import './tile.css';

const BADGE: Record<TileStatus, string> = {
  connecting: '连接中', starting: '启动中', live: '直播', stalled: '卡顿', reconnecting: '重连中', offline: '离线', failed: '故障', denied: '无权限', error: '错误',
};

/** Tile plays one camera. */
export function Tile({ camera, profile, index, selected, onSelect, onClose, onSessionEnded, debug }: {
  camera: TileCamera | null;
  profile: Profile;
  index: number;
  selected: boolean;
  onSelect: () => void;
  onClose: () => void;
  onSessionEnded: (err: unknown) => void;
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
  // The view belongs to the player of one camera and profile: until the next camera's player reports, the tile shows
  // "connecting", never what the previous camera's picture did.
  const [view, setView] = useState<(TileView & { of: string }) | null>(null);
  const current = camera ? `${camera.id}/${profile}` : '';
  const shown: TileView = view && view.of === current ? view : { status: 'connecting', message: null };
  const { status, message, firstFrameMs, transport, fallback } = shown;
  const [details, setDetails] = useState<CameraT | null>(null);
  const [ptzOpen, setPtzOpen] = useState(false);
  // A PTZ refusal is said over the picture for a few seconds; it is not the picture's state.
  const [ptzMessage, setPtzMessage] = useState<string | null>(null);
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
    player.start();
    return () => {
      playerRef.current = null;
      player.dispose();
    };
  }, [camera?.id, profile]);

  return (
    <div class={`tile ${selected ? 'tile-selected' : ''}`} onClick={onSelect} data-testid="tile" data-index={index}
      data-camera={camera?.id ?? ''} data-state={camera ? status : 'empty'} data-first-frame-ms={firstFrameMs ?? ''} data-transport={transport ?? ''}>
      <video ref={video} muted playsInline autoPlay data-testid="tile-video" />
      {camera ? (
        <>
          <div class="tile-bar">
            <span class={`tile-badge tile-${status}`} data-testid="tile-badge">{BADGE[status]}</span>
            <span class="tile-name" title={camera.id}>{camera.name}</span>
            {transport && (
              <span class={`tile-transport tile-transport-${transport}`} data-testid="tile-transport"
                title={fallback ? `已改用 LL-HLS (fell back to LL-HLS): ${fallback}` : `延迟 latency ${LATENCY_CLASS[transport]}`}>
                {transport === 'webrtc' ? 'WebRTC' : 'LL-HLS'} {LATENCY_CLASS[transport]}
              </span>
            )}
            <a class="tile-tool" title="抓图 snapshot" href={api.snapshotUrl(camera.id, 'main')} target="_blank" rel="noopener"
              onClick={(e) => e.stopPropagation()} data-testid="tile-snapshot">📷</a>
            {details?.mayPtz && (
              <button class={`tile-tool ${ptzOpen ? 'tile-tool-on' : ''}`} title="云台 PTZ" data-testid="tile-ptz"
                onClick={(e) => { e.stopPropagation(); setPtzOpen(!ptzOpen); }}>云台</button>
            )}
            {debug && (
              <button class={`tile-tool ${showStats ? 'tile-tool-on' : ''}`} title="播放诊断 playback figures" data-testid="tile-debug"
                onClick={(e) => { e.stopPropagation(); setShowStats(!showStats); }}>ⓘ</button>
            )}
            <button class="tile-close" title="关闭 close" onClick={(e) => { e.stopPropagation(); onClose(); }}>×</button>
          </div>
          {ptzOpen && <PtzPanel camera={camera.id} onError={(err) => { onSessionEnded(err); setPtzMessage(ptzError(err)); }} />}
          {debug && showStats && stats && (
            <div class="tile-stats" data-testid="tile-stats" data-delay-ms={stats.delayMs ?? ''} data-glass-ms={stats.glassMs ?? ''}>
              <span>{stats.transport === 'webrtc' ? 'WebRTC' : 'LL-HLS'}{stats.codec ? ` ${stats.codec}` : ''}</span>
              {stats.width && <span>{stats.width}×{stats.height}{stats.fps ? ` ${Math.round(stats.fps)} fps` : ''}</span>}
              {stats.kbps !== undefined && <span>{stats.kbps} kbps</span>}
              {stats.delayMs !== undefined && <span>{stats.transport === 'webrtc' ? '接收延迟 receive delay' : '距直播点 behind live'} {stats.delayMs} ms</span>}
              {stats.glassMs !== undefined && <span>网关→画面 gateway→glass {stats.glassMs} ms</span>}
              {stats.rttMs !== undefined && <span>RTT {stats.rttMs} ms</span>}
              {stats.lost !== undefined && <span>丢包 lost {stats.lost}</span>}
            </div>
          )}
          {(ptzMessage ?? message) && <p class="tile-message" role="status" data-testid="tile-message">{ptzMessage ?? message}</p>}
        </>
      ) : (
        <p class="tile-empty">{selected ? '在左侧选择摄像机 · pick a camera' : ''}</p>
      )}
    </div>
  );
}
