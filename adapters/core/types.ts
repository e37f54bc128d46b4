// Device and capability types shared by every adapter and by the gateway, which depends on these, not on a brand.

/** Profile names a camera stream: the main (full resolution) or sub (small tile) encoding. */
export type Profile = 'main' | 'sub';

/** PROFILES lists every profile in the order a tile prefers them. */
export const PROFILES: readonly Profile[] = ['main', 'sub'];

/** SourceCredentials are what a device asks for; they never leave the gateway's process in clear text. */
export interface SourceCredentials {
  username: string;
  password: string;
}

/** StreamSourceSpec is where one (camera, profile) stream is pulled from. */
export interface StreamSourceSpec {
  url: string;
  credentials?: SourceCredentials;
  /** transport is how RTP is carried: interleaved in the RTSP TCP connection (default), over UDP, or TCP then UDP. */
  transport?: 'tcp' | 'udp' | 'auto';
}

/** withCredentials returns url with credentials embedded as userinfo, as ffmpeg and most RTSP clients expect. */
export function withCredentials(url: string, credentials?: SourceCredentials): string {
  if (!credentials) return url;
  const u = new URL(url);
  u.username = encodeURIComponent(credentials.username);
  u.password = encodeURIComponent(credentials.password);
  return u.toString();
}

/** redactUrl returns url without its password, for logs and errors. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparsable url>';
  }
}
