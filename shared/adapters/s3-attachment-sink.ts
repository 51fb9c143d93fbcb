import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { attachmentDisposition, attachmentKey, storedContentType } from '../domain/inbound-mail.ts';
import type { AttachmentMeta, AttachmentSink } from '../ports/attachment-sink.ts';

/**
 * Streams each attachment of one message to `<prefix>attachments/<messageId>/<n>-<name>`.
 * lib-storage's Upload reads the stream in 5 MiB parts (multipart above that; a single PUT
 * below), holding at most `queueSize` parts: memory stays bounded, and fauxqs's 11 MiB
 * single-PUT limit is never hit. The key is deterministic, so a redelivered message
 * overwrites its own attachments instead of adding copies. Objects are served as downloads
 * (`Content-Disposition: attachment`) with an inert type (storedContentType): a sender's HTML
 * or SVG never renders, let alone runs, in whoever opens a presigned link.
 */
export class S3AttachmentSink implements AttachmentSink {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly messageId: string,
    private readonly prefix: string = '',
  ) {}

  async store(meta: AttachmentMeta, content: Readable): Promise<{ key: string }> {
    const key = attachmentKey(this.messageId, meta.index, meta.filename, this.prefix);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: content, ContentType: storedContentType(meta.contentType), ContentDisposition: attachmentDisposition(meta.filename) },
      partSize: 5 * 1024 * 1024,
      queueSize: 2,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      // Unblock the parser, which may be waiting for us to read more.
      content.resume();
      throw error;
    }
    return { key };
  }
}
