import { randomUUID } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Quarantine } from '../ports/quarantine.ts';

/** Quarantined input under `quarantine/<source>/<yyyy-mm-dd>/<uuid>`, the reason in object metadata. */
export class S3Quarantine implements Quarantine {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async keep(input: { source: string; reason: string; body: Uint8Array | string; contentType?: string }): Promise<string> {
    const key = `quarantine/${input.source}/${this.now().toISOString().slice(0, 10)}/${randomUUID()}`;
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: input.body,
        ContentType: input.contentType ?? 'application/octet-stream',
        // Metadata must be ASCII; reasons are ours, not user input, but keep them printable.
        Metadata: { reason: input.reason.replace(/[^\x20-\x7e]/g, '?').slice(0, 1000) },
      }),
    );
    return key;
  }
}
