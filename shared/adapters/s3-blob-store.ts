import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { BlobStore } from '../ports/blob-store.ts';

/** S3 objects in one bucket. Uploads go through lib-storage (multipart above 5 MiB: a 100,000-line import file is ~4 MB, and fauxqs rejects single PUTs over 11 MiB). */
export class S3BlobStore implements BlobStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: string, contentType: string): Promise<string> {
    await new Upload({ client: this.client, params: { Bucket: this.bucket, Key: key, Body: body, ContentType: contentType } }).done();
    return `s3://${this.bucket}/${key}`;
  }

  async get(key: string): Promise<string> {
    const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return (await out.Body?.transformToString('utf8')) ?? '';
  }
}
