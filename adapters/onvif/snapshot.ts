// Fetching a camera's JPEG snapshot over HTTP, answering a Digest (or Basic) challenge as cameras ask for one.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { answerChallenge } from '../core/digest.js';
import { redactUrl, type SourceCredentials } from '../core/types.js';
import { DeviceError } from '../core/device-error.js';

/** MAX_SNAPSHOT_BYTES bounds a snapshot: a 4K JPEG is a few MB. */
export const MAX_SNAPSHOT_BYTES = 16 * 1024 * 1024;

/** SnapshotError names the address (without credentials) and what went wrong. */
export class SnapshotError extends DeviceError {
  override name = 'SnapshotError';

  constructor(url: string, detail: string) {
    super(`snapshot ${redactUrl(url)}: ${detail}`, `snapshot failed: ${detail}`);
  }
}

function get(url: URL, headers: Record<string, string>, timeoutMs: number): Promise<{ res: IncomingMessage; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: 'GET', headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_SNAPSHOT_BYTES) {
          req.destroy(new Error(`the picture exceeds ${MAX_SNAPSHOT_BYTES} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => resolve({ res, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** fetchSnapshot returns the JPEG at url, authenticating as the camera asks. */
export async function fetchSnapshot(url: string, credentials?: SourceCredentials, timeoutMs = 5000): Promise<Buffer> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SnapshotError(url, 'not a URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new SnapshotError(url, `scheme ${u.protocol} is not http: or https:`);
  const path = `${u.pathname}${u.search}`;
  try {
    let { res, body } = await get(u, {}, timeoutMs);
    if (res.statusCode === 401 && credentials) {
      const challenge = String(res.headers['www-authenticate'] ?? '');
      const answer = answerChallenge(challenge, credentials, 'GET', path);
      if (!answer) throw new SnapshotError(url, `unsupported authentication ${JSON.stringify(challenge.slice(0, 40))}`);
      ({ res, body } = await get(u, { authorization: answer.header }, timeoutMs));
    }
    if (res.statusCode === 401) throw new SnapshotError(url, 'the camera refused the credentials (401)');
    if (res.statusCode !== 200) throw new SnapshotError(url, `the camera answered ${res.statusCode}`);
    if (body[0] !== 0xff || body[1] !== 0xd8) throw new SnapshotError(url, `the answer is not a JPEG (${String(res.headers['content-type'] ?? 'no type')})`);
    return body;
  } catch (err) {
    if (err instanceof SnapshotError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new SnapshotError(url, code ? `${code}` : (err as Error).message);
  }
}
