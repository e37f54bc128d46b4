// Camera credentials at rest: AES-256-GCM, the camera id bound as associated data so a secret cannot be moved.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** CredentialCipher encrypts and decrypts camera passwords. */
export class CredentialCipher {
  #key: Buffer;

  constructor(key: Buffer) {
    this.#key = key;
  }

  /** seal encrypts a secret of camera id: version byte, 12-byte IV, 16-byte tag, ciphertext. */
  seal(cameraId: string, secret: string): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(cameraId));
    const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([1]), iv, cipher.getAuthTag(), body]);
  }

  /** open decrypts; it throws when the blob was altered, moved to another camera or sealed with another key. */
  open(cameraId: string, blob: Buffer): string {
    if (blob.length < 29 || blob[0] !== 1) throw new Error(`credentials of camera ${cameraId} are not in a known format`);
    const decipher = createDecipheriv('aes-256-gcm', this.#key, blob.subarray(1, 13));
    decipher.setAAD(Buffer.from(cameraId));
    decipher.setAuthTag(blob.subarray(13, 29));
    try {
      return Buffer.concat([decipher.update(blob.subarray(29)), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(`credentials of camera ${cameraId} cannot be decrypted (wrong master key or altered data)`);
    }
  }
}
