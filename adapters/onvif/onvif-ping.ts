// The ONVIF health check: GetSystemDateAndTime, which a device answers without credentials; nothing is kept open.
import { performance } from 'node:perf_hooks';
import { redactUrl } from '../core/types.js';
import { OnvifError } from './onvif-client.js';

const BODY = '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
  + '<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>';

/** pingOnvif resolves with the latency when the device service answers with a SOAP envelope. */
export async function pingOnvif(url: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<{ latencyMs: number }> {
  const timeoutMs = opts.timeoutMs ?? 3000;
  const signals = [AbortSignal.timeout(timeoutMs), ...(opts.signal ? [opts.signal] : [])];
  const started = performance.now();
  const device = redactUrl(url);
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', body: BODY, headers: { 'content-type': 'application/soap+xml; charset=utf-8' }, signal: AbortSignal.any(signals), redirect: 'error' });
  } catch (err) {
    if (signals[0]!.aborted) throw new OnvifError('timeout', device, 'GetSystemDateAndTime', `no answer within ${timeoutMs} ms`);
    if (opts.signal?.aborted) throw new OnvifError('timeout', device, 'GetSystemDateAndTime', 'cancelled');
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new OnvifError('unreachable', device, 'GetSystemDateAndTime', cause ?? (err as Error).message);
  }
  const text = (await res.text()).slice(0, 4096);
  if (!/<(?:\w+:)?Envelope[\s>]/.test(text)) throw new OnvifError('protocol', device, 'GetSystemDateAndTime', `the answer (${res.status}) is not SOAP`);
  // A fault still proves the device is up (some demand credentials even for this call).
  return { latencyMs: Math.round(performance.now() - started) };
}
