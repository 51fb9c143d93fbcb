/** Keeps input we could not process (signed but unreadable), with the reason, for a person to look at. */
export interface Quarantine {
  keep(input: { source: string; reason: string; body: Uint8Array | string; contentType?: string }): Promise<string>;
}
