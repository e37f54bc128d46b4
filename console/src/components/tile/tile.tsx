// One live tile: asks for a stream ticket, plays HLS with hls.js, keeps the media token fresh, and says what is wrong.
import Hls from 'hls.js';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, type CameraT, type Profile, type StreamInfoT } from '../../api/client.js';
import { PtzPanel, ptzError } from './ptz-panel.js';
import type { TileCamera } from '../../state/app-state.js';
import './tile.css';

/** TileStatus is the badge of a tile. */
type TileStatus = 'connecting' | 'starting' | 'live' | 'offline' | 'failed' | 'denied' | 'error';

const BADGE: Record<TileStatus, string> = {
  connecting: '连接中', starting: '启动中', live: '直播', offline: '离线', failed: '故障', denied: '无权限', error: '错误',
};

function explain(info: StreamInfoT | undefined, fallback: string): string {
  if (!info?.error) return fallback;
  const retry = info.retryAt ? `; retrying in ${Math.max(0, Math.round((info.retryAt - Date.now()) / 1000))} s` : '';
  return `${info.error.message}${retry}`;
}

/** refusalText says in the viewer's words why the gateway would not open a stream; other errors keep their message. */
function refusalText(err: unknown): string {
  if (err instanceof ApiError && err.code === 'share-exceeded') {
    const scope = err.details?.scope === 'unit' ? '本单位' : '您';
    return `${scope}同时打开的视频已达上限 ${String(err.details?.limit ?? '')} 路，请先关闭其他画面 (${err.message})`;
  }
  if (err instanceof ApiError && err.code === 'capacity') return `网关拉流已满，请稍后再试 (${err.message})`;
  return err instanceof Error ? err.message : String(err);
}

/** withToken replaces the t= parameter of a media URL with the current token. */
export function withToken(url: string, token: string): string {
  const u = new URL(url, location.href);
  u.searchParams.set('t', token);
  return u.toString();
}

/** Tile plays one camera. */
export function Tile({ camera, profile, index, selected, onSelect, onClose, onSessionEnded }: {
  camera: TileCamera | null;
  profile: Profile;
  index: number;
  selected: boolean;
  onSelect: () => void;
  onClose: () => void;
  onSessionEnded: (err: unknown) => void;
}) {
  const video = useRef<HTMLVideoElement>(null);
  const [status, setStatus] = useState<TileStatus>('connecting');
  const [message, setMessage] = useState<string | null>(null);
  const [firstFrameMs, setFirstFrameMs] = useState<number | null>(null);
  const [details, setDetails] = useState<CameraT | null>(null);
  const [ptzOpen, setPtzOpen] = useState(false);

  useEffect(() => {
    setDetails(null);
    setPtzOpen(false);
    if (camera) api.camera(camera.id).then(setDetails, () => undefined);
  }, [camera?.id]);

  useEffect(() => {
    const el = video.current;
    if (!camera || !el) return;
    let disposed = false;
    let hls: Hls | null = null;
    let token = '';
    const timers: number[] = [];
    const t0 = performance.now();
    setStatus('connecting');
    setMessage(null);
    setFirstFrameMs(null);

    const fail = (err: unknown) => {
      if (disposed) return;
      onSessionEnded(err);
      if (err instanceof ApiError && (err.status === 403 || err.status === 404)) {
        setStatus('denied');
        setMessage(err.message);
      } else {
        setStatus('error');
        setMessage(refusalText(err));
      }
    };

    const refreshState = async () => {
      try {
        const info = await api.streamInfo(camera.id, profile);
        if (disposed) return info;
        if (info.state === 'offline' || info.state === 'failed') {
          setStatus(info.state);
          setMessage(explain(info, `stream ${info.state}`));
        } else if (info.state === 'starting') {
          setStatus((s) => (s === 'live' ? s : 'starting'));
        }
        return info;
      } catch (err) {
        fail(err);
        return undefined;
      }
    };

    const onFrame = () => {
      if (disposed) return;
      setFirstFrameMs(Math.round(performance.now() - t0));
      setStatus('live');
      setMessage(null);
    };

    const start = async () => {
      let ticket;
      try {
        ticket = await api.openStream(camera.id, profile);
      } catch (err) {
        return fail(err);
      }
      if (disposed) return;
      token = ticket.token;
      setStatus(ticket.stream.state === 'live' ? 'starting' : (ticket.stream.state as TileStatus));
      // Renew the token at half its life: playlists and segments stay authorised while the tile plays.
      const renewEvery = Math.max(5000, (ticket.tokenExpires - Date.now()) / 2);
      timers.push(window.setInterval(() => {
        api.renewToken(camera.id, profile).then((t) => { token = t.token; }, fail);
      }, renewEvery));
      timers.push(window.setInterval(() => void refreshState(), 3000));
      if (!Hls.isSupported()) {
        setStatus('error');
        setMessage('this browser cannot play HLS (Media Source Extensions missing)');
        return;
      }
      const load = () => {
        if (disposed) return;
        const player = new Hls({
          liveSyncDurationCount: 2,
          liveMaxLatencyDurationCount: 6,
          maxBufferLength: 8,
          backBufferLength: 10,
          manifestLoadingTimeOut: 15000,
          manifestLoadingMaxRetry: 0,
          xhrSetup: (xhr, url) => xhr.open('GET', withToken(url, token), true),
        });
        hls = player;
        player.on(Hls.Events.ERROR, async (_e, data) => {
          if (!data.fatal || disposed || hls !== player) return;
          player.destroy();
          hls = null;
          if (data.response?.code === 403) {
            fail(new ApiError(403, { message: '访问已失效 (your right to this camera has ended)' }));
            return;
          }
          const info = await refreshState();
          if (disposed) return;
          setMessage(explain(info, `playback failed: ${data.details}`));
          if (!info || (info.state !== 'offline' && info.state !== 'failed')) setStatus('error');
          // Try again after the gateway's own retry, so a camera that comes back shows up by itself.
          const wait = info?.retryAt ? Math.max(2000, info.retryAt - Date.now() + 500) : 4000;
          timers.push(window.setTimeout(load, Math.min(wait, 30000)));
        });
        player.loadSource(ticket.playlistUrl);
        player.attachMedia(el);
      };
      load();
      el.muted = true;
      void el.play().catch(() => undefined);
    };

    // A decoded frame, not a 'playing' event, is what tells a viewer the picture is there.
    el.requestVideoFrameCallback(onFrame);
    void start();
    return () => {
      disposed = true;
      timers.forEach((t) => { window.clearInterval(t); window.clearTimeout(t); });
      hls?.destroy();
      el.removeAttribute('src');
      el.load();
    };
  }, [camera?.id, profile]);

  return (
    <div class={`tile ${selected ? 'tile-selected' : ''}`} onClick={onSelect} data-testid="tile" data-index={index}
      data-camera={camera?.id ?? ''} data-state={camera ? status : 'empty'} data-first-frame-ms={firstFrameMs ?? ''}>
      <video ref={video} muted playsInline autoPlay data-testid="tile-video" />
      {camera ? (
        <>
          <div class="tile-bar">
            <span class={`tile-badge tile-${status}`} data-testid="tile-badge">{BADGE[status]}</span>
            <span class="tile-name" title={camera.id}>{camera.name}</span>
            <a class="tile-tool" title="抓图 snapshot" href={api.snapshotUrl(camera.id, 'main')} target="_blank" rel="noopener"
              onClick={(e) => e.stopPropagation()} data-testid="tile-snapshot">📷</a>
            {details?.mayPtz && (
              <button class={`tile-tool ${ptzOpen ? 'tile-tool-on' : ''}`} title="云台 PTZ" data-testid="tile-ptz"
                onClick={(e) => { e.stopPropagation(); setPtzOpen(!ptzOpen); }}>云台</button>
            )}
            <button class="tile-close" title="关闭 close" onClick={(e) => { e.stopPropagation(); onClose(); }}>×</button>
          </div>
          {ptzOpen && <PtzPanel camera={camera.id} onError={(err) => { onSessionEnded(err); setMessage(ptzError(err)); }} />}
          {message && <p class="tile-message" role="status" data-testid="tile-message">{message}</p>}
        </>
      ) : (
        <p class="tile-empty">{selected ? '在左侧选择摄像机 · pick a camera' : ''}</p>
      )}
    </div>
  );
}
