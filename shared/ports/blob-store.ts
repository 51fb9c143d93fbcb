/** Files the sync hands to a provider (SES import jobs read theirs from S3). */
export interface BlobStore {
  /** Stores the body and returns its `s3://bucket/key` URL. */
  put(key: string, body: string, contentType: string): Promise<string>;
  get(key: string): Promise<string>;
}
