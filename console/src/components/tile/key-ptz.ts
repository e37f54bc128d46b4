// PTZ from the keyboard: while an arrow (or + / -) is held on the selected tile, the head moves; on release it stops.
// Each move carries a short timeout and is repeated while held, as the panel's buttons do.
import { useEffect } from 'preact/hooks';
import { api } from '../../api/client.js';

const MOVE_TIMEOUT_MS = 1000;
const REPEAT_MS = 600;
const SPEED = 0.5;

const VECTORS: Record<string, { pan?: number; tilt?: number; zoom?: number }> = {
  ArrowUp: { tilt: SPEED }, ArrowDown: { tilt: -SPEED }, ArrowLeft: { pan: -SPEED }, ArrowRight: { pan: SPEED }, '+': { zoom: SPEED }, '-': { zoom: -SPEED },
};

/** useKeyPtz drives camera's head while key is held (camera null: no PTZ on this tile). */
export function useKeyPtz(camera: string | null, key: string | null, onError: (err: unknown) => void): void {
  useEffect(() => {
    const v = key ? VECTORS[key] : undefined;
    if (!camera || !v) return;
    const send = () => api.ptzMove(camera, v, MOVE_TIMEOUT_MS).catch(onError);
    void send();
    const timer = window.setInterval(send, REPEAT_MS);
    return () => {
      window.clearInterval(timer);
      api.ptzStop(camera).catch(onError);
    };
  }, [camera, key]);
}
