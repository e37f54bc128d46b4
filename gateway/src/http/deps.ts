// The small interfaces http/ needs; app.ts hands in the real objects.
import type { Profile } from '../../../adapters/core/types.js';
import type { AccessIndex } from '../access/access-index.js';
import type { MediaTokens } from '../auth/media-token.js';
import type { SessionStore } from '../auth/session-store.js';
import type { Catalog } from '../catalog/catalog.js';
import type { StreamInfo } from '../media/stream.js';

/** MediaHub is what routes ask of the stream hub. */
export interface MediaHub {
  open(camera: string, profile: Profile, viewer: string): StreamInfo;
  touch(camera: string, profile: Profile, viewer: string): StreamInfo | undefined;
  info(camera: string, profile: Profile): StreamInfo | undefined;
  list(): StreamInfo[];
  waitLive(camera: string, profile: Profile, timeoutMs: number): Promise<StreamInfo | undefined>;
  filePath(camera: string, profile: Profile, name: string): string | undefined;
}

/** HttpDeps are everything the routes use. */
export interface HttpDeps {
  catalog: Pick<Catalog, 'tree' | 'summary' | 'summaries' | 'camera' | 'camerasOf' | 'user' | 'userWithHash' | 'unitName'>;
  access: AccessIndex;
  sessions: SessionStore;
  tokens: MediaTokens;
  hub: MediaHub;
  /** consoleDir holds the built console; undefined serves a page saying how to build it. */
  consoleDir?: string;
  secureCookies: boolean;
  /** playlistWaitMs is how long a playlist request waits for a starting stream. */
  playlistWaitMs: number;
}
