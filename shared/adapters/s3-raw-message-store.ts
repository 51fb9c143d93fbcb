import type { Readable } from 'node:stream';
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, NoSuchKey, NotFound, type S3Client } from '@aws-sdk/client-s3';
import { RawMessageMissingError, type RawMessageStore } from '../ports/raw-message-store.ts';

const isMissing = (error: unknown): boolean =>
  error instanceof NoSuchKey || error instanceof NotFound || (error instanceof Error && (error.name === 'NoSuchKey' || error.name === 'NotFound'));

const copySource = (bucket: string, key: string): string => `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;

/** Raw messages where SES's S3 action put them; quarantined ones move to `quarantine/<messageId>`. */
export class S3RawMessageStore implements RawMessageStore {
  constructor(private readonly client: S3Client) {}

  async open(location: { bucket: string; key: string }): Promise<{ body: Readable; size: number | null }> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
      if (!out.Body) throw new RawMessageMissingError(`s3://${location.bucket}/${location.key} has no body`);
      return { body: out.Body as Readable, size: out.ContentLength ?? null };
    } catch (error) {
      if (isMissing(error)) throw new RawMessageMissingError(`s3://${location.bucket}/${location.key} does not exist`);
      throw error;
    }
  }

  async quarantine(location: { bucket: string; key: string }, messageId: string): Promise<string> {
    const target = `quarantine/${messageId}`;
    if (location.key === target) return target;
    try {
      await this.client.send(new CopyObjectCommand({ Bucket: location.bucket, Key: target, CopySource: copySource(location.bucket, location.key) }));
    } catch (error) {
      if (!isMissing(error)) throw error;
      // Already moved by an earlier attempt that failed later on?
      try {
        await this.client.send(new HeadObjectCommand({ Bucket: location.bucket, Key: target }));
        return target;
      } catch (headError) {
        if (isMissing(headError)) throw new RawMessageMissingError(`s3://${location.bucket}/${location.key} does not exist`);
        throw headError;
      }
    }
    await this.client.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: location.key }));
    return target;
  }
}
