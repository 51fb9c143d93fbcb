import type { Readable } from 'node:stream';

export class RawMessageMissingError extends Error {
  override name = 'RawMessageMissingError';
}

/** The raw messages SES stored. */
export interface RawMessageStore {
  /** A stream of the object's bytes; rejects with RawMessageMissingError when it does not exist. */
  open(location: { bucket: string; key: string }): Promise<{ body: Readable; size: number | null }>;
  /** Moves a message out of the way (quarantine prefix); idempotent: a second call is a no-op. Returns the new key. */
  quarantine(location: { bucket: string; key: string }, messageId: string): Promise<string>;
}
