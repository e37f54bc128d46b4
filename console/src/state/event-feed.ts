// The console's end of the event centre: a WebSocket that brings new events and acknowledgements as they happen
// (reconnecting with a backoff, reading what it missed), the count of unacknowledged events for the top bar, and an
// optional sound for new alarms.
import { signal } from '@preact/signals';
import { api, type EventT } from '../api/client.js';

/** KEEP is how many recent events the console holds in memory. */
const KEEP = 300;
const SOUND_KEY = 'seg.events.sound';

/** ALARM_KINDS sound when they arrive (the others are news, not alarms). */
const ALARM_KINDS = new Set(['camera.offline', 'camera.credentials', 'stream.failed']);

/** createEventFeed makes the feed; start() connects it, stop() closes it. */
export function createEventFeed() {
  const recent = signal<EventT[]>([]);
  const unacked = signal(0);
  const connected = signal(false);
  const sound = signal(readSound());
  let ws: WebSocket | null = null;
  let retry = 1000;
  let timer: number | undefined;
  let stopped = true;
  let audio: AudioContext | null = null;

  const beep = () => {
    if (!sound.value) return;
    try {
      audio ??= new AudioContext();
      const o = audio.createOscillator();
      const g = audio.createGain();
      o.frequency.value = 880;
      g.gain.setValueAtTime(0.2, audio.currentTime);
      g.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.35);
      o.connect(g).connect(audio.destination);
      o.start();
      o.stop(audio.currentTime + 0.35);
    } catch { /* no audio device: the badge still counts */ }
  };
  const merge = (incoming: EventT[]) => {
    const seen = new Set(recent.value.map((e) => e.id));
    const fresh = incoming.filter((e) => !seen.has(e.id));
    recent.value = [...fresh, ...recent.value].sort((a, b) => b.id - a.id).slice(0, KEEP);
    return fresh;
  };
  const load = async () => {
    const r = await api.events({ limit: 100 });
    merge(r.events);
    unacked.value = r.unacked;
  };
  const connect = () => {
    if (stopped) return;
    const url = new URL('/api/events/ws', location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url);
    ws = socket;
    socket.onopen = () => {
      connected.value = true;
      retry = 1000;
      // What happened while the socket was down is read back.
      void load().catch(() => undefined);
    };
    socket.onmessage = (m) => {
      let msg: { type?: string; events?: EventT[]; ids?: number[]; by?: string; at?: number };
      try { msg = JSON.parse(String(m.data)) as typeof msg; } catch { return; }
      if (msg.type === 'events' && msg.events) {
        const fresh = merge(msg.events);
        unacked.value += fresh.filter((e) => e.ackedAt === null).length;
        if (fresh.some((e) => ALARM_KINDS.has(e.kind))) beep();
      }
      if (msg.type === 'ack' && msg.ids) {
        const ids = new Set(msg.ids);
        let n = 0;
        recent.value = recent.value.map((e) => (ids.has(e.id) && e.ackedAt === null ? (n++, { ...e, ackedBy: msg.by ?? '', ackedAt: msg.at ?? Date.now() }) : e));
        unacked.value = Math.max(0, unacked.value - Math.max(n, 0));
        if (n < ids.size) void load().catch(() => undefined);
      }
    };
    socket.onclose = () => {
      connected.value = false;
      if (ws === socket) ws = null;
      if (stopped) return;
      timer = window.setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30_000);
    };
  };

  return {
    recent, unacked, connected, sound,
    start() {
      if (!stopped) return;
      stopped = false;
      void load().catch(() => undefined);
      connect();
    },
    stop() {
      stopped = true;
      window.clearTimeout(timer);
      ws?.close();
      ws = null;
      recent.value = [];
      unacked.value = 0;
    },
    setSound(on: boolean) {
      sound.value = on;
      try { localStorage.setItem(SOUND_KEY, on ? '1' : '0'); } catch { /* kept for this visit */ }
    },
    async ack(ids: number[]) {
      if (ids.length === 0) return;
      await api.ackEvents(ids);
    },
  };
}

function readSound(): boolean {
  try { return localStorage.getItem(SOUND_KEY) === '1'; } catch { return false; }
}

export type EventFeed = ReturnType<typeof createEventFeed>;
