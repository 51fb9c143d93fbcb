import type { Readable } from 'node:stream';

export interface AttachmentMeta {
  /** 1-based, over the whole message tree (attachments of forwarded messages continue the count). */
  index: number;
  filename: string;
  contentType: string;
  /** 0 for the message itself, 1 inside a forwarded message, and so on. */
  depth: number;
}

/**
 * Where the decoded bytes of each attachment go while the message is parsed. The parser
 * hashes and measures the bytes itself; a sink only stores them (S3) or drops them (CLI).
 * `store` must consume `content` to its end (or reject): the parser waits on it.
 */
export interface AttachmentSink {
  store(meta: AttachmentMeta, content: Readable): Promise<{ key: string | null }>;
}
