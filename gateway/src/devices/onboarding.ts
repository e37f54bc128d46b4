// Onboarding: what a device says about itself before it joins the catalog. An ONVIF endpoint is asked for its
// identity, profiles and stream addresses, and its main stream is probed over RTSP; an RTSP address is probed alone.
import type { Profile, SourceCredentials } from '../../../adapters/core/types.js';
import { discover, OnvifDevice, OnvifError, type DeviceInformation, type DiscoveredDevice } from '../../../adapters/onvif/onvif-client.js';
import { probeRtsp, RtspProbeError, type ProbeResult } from '../../../adapters/rtsp/rtsp-probe.js';

/** DeviceProbe is the outcome of probing an address. */
export interface DeviceProbe {
  kind: 'onvif' | 'rtsp';
  device?: DeviceInformation;
  ptz?: boolean;
  /** streams are the stream addresses per profile, with what an RTSP probe read from each. */
  streams: Array<{ profile: Profile; url: string; token?: string; width?: number; height?: number; fps?: number; encoding?: string; probe?: ProbeResult; error?: string }>;
  /** suggested are the catalog fields the console fills in. */
  suggested: { id?: string; name?: string; mainUrl?: string; subUrl?: string; onvifUrl?: string };
}

/** ProbeFailedError says why the address could not be probed, in words without the password. */
export class ProbeFailedError extends Error {
  override name = 'ProbeFailedError';
}

/** probeDevice probes an ONVIF device service (http:, https:) or an RTSP stream (rtsp:). */
export async function probeDevice(url: string, credentials: SourceCredentials | undefined, timeoutMs: number): Promise<DeviceProbe> {
  const scheme = /^([a-z]+):/i.exec(url)?.[1]?.toLowerCase();
  try {
    if (scheme === 'rtsp' || scheme === 'rtsps') {
      const probe = await probeRtsp(url, { credentials, timeoutMs });
      return { kind: 'rtsp', streams: [{ profile: 'main', url: probe.url, width: probe.video?.width, height: probe.video?.height, fps: probe.video?.fps, encoding: probe.video?.codec, probe }], suggested: { mainUrl: probe.url } };
    }
    if (scheme !== 'http' && scheme !== 'https') throw new ProbeFailedError('give an ONVIF device address (http://host/onvif/device_service) or an RTSP address (rtsp://...)');
    const device = await OnvifDevice.connect({ url, credentials, timeoutMs });
    const info = await device.deviceInformation();
    const profiles = await device.streamProfiles();
    const streams: DeviceProbe['streams'] = [];
    for (const profile of ['main', 'sub'] as const) {
      const p = profiles[profile];
      if (!p) continue;
      const streamUrl = await device.streamUri(p.token);
      let probe: ProbeResult | undefined;
      let error: string | undefined;
      try {
        probe = await probeRtsp(streamUrl, { credentials, timeoutMs });
      } catch (err) {
        error = err instanceof RtspProbeError ? err.detail : String(err);
      }
      streams.push({ profile, url: streamUrl, token: p.token, width: p.width, height: p.height, fps: p.fps, encoding: p.encoding, ...(probe ? { probe } : {}), ...(error ? { error } : {}) });
    }
    return {
      kind: 'onvif', device: info, ptz: device.hasPtz && Object.values(profiles).some((p) => p?.ptz), streams,
      suggested: { id: info.serialNumber || undefined, name: [info.manufacturer, info.model].filter(Boolean).join(' ') || undefined, onvifUrl: url, mainUrl: streams[0]?.url, subUrl: streams[1]?.url },
    };
  } catch (err) {
    if (err instanceof OnvifError || err instanceof RtspProbeError) throw new ProbeFailedError(err.message);
    throw err;
  }
}

/** discoverDevices probes the network (WS-Discovery) and marks the devices already in the catalog. */
export async function discoverDevices(timeoutMs: number, knownOnvifUrl: (url: string) => string | undefined): Promise<Array<DiscoveredDevice & { cameraId: string | null }>> {
  const found = await discover({ timeoutMs });
  return found.map((d) => ({ ...d, cameraId: d.xaddrs.map(knownOnvifUrl).find((id) => id !== undefined) ?? null }))
    .sort((a, b) => (a.name ?? a.endpoint).localeCompare(b.name ?? b.endpoint));
}
