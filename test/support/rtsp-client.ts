// RTSP sessions for tests and load: the adapter's connection, plus a viewer that plays and only counts bytes.
import { digestResponse, parseAuthParams } from '../../adapters/core/digest.js';
import { RtspConnection } from '../../adapters/rtsp/rtsp-connection.js';

export { RtspConnection };

/** openRtsp connects to the simulator on loopback. */
export function openRtsp(port: number): Promise<RtspConnection> {
  return RtspConnection.open('127.0.0.1', port);
}

/** playInterleaved opens a session that receives RTP over TCP and only counts bytes (a cheap viewer for load tests). */
export async function playInterleaved(port: number, path: string, username: string, password: string): Promise<RtspConnection> {
  const c = await openRtsp(port);
  const uri = `rtsp://127.0.0.1:${port}${path}`;
  const challenge = await c.request('DESCRIBE', uri);
  const { realm, nonce } = parseAuthParams(challenge.headers['www-authenticate']!.slice(7));
  const auth = (method: string, u: string) => ({ Authorization: digestResponse({ username, password, realm: realm!, nonce: nonce!, method, uri: u }) });
  const track = `${uri}/trackID=0`;
  const setup = await c.request('SETUP', track, { ...auth('SETUP', track), Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
  if (setup.status !== 200) throw new Error(`SETUP ${path} answered ${setup.status}`);
  const session = setup.headers.session!.split(';')[0]!;
  const play = await c.request('PLAY', uri, { ...auth('PLAY', uri), Session: session });
  if (play.status !== 200) throw new Error(`PLAY ${path} answered ${play.status}`);
  c.discard();
  return c;
}
