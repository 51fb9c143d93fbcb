import type { Readable } from 'node:stream';
import type { AttachmentSink } from '../ports/attachment-sink.ts';

/**
 * Stores nothing: reads each attachment to its end so the parser can hash and measure it.
 * What `mailbridge parse` and the benchmarks use.
 */
export class DiscardingAttachmentSink implements AttachmentSink {
  async store(_meta: unknown, content: Readable): Promise<{ key: null }> {
    for await (const _chunk of content);
    return { key: null };
  }
}
