import type { AddressState, Decision } from '../domain/suppression-policy.ts';

export interface SuppressionStore {
  get(email: string): Promise<AddressState | undefined>;
  /**
   * Read the address, let `decide` fold the change in, and write the result only if nobody
   * wrote in between (optimistic version check); on a race, read and decide again.
   * Writes nothing when the decision carries no next state.
   */
  update(email: string, decide: (current: AddressState | undefined) => Decision): Promise<Decision>;
}

export interface StoreChange {
  email: string;
  decide: (current: AddressState | undefined) => Decision;
}

/** Bulk paths (imports). */
export interface BulkSuppressionStore extends SuppressionStore {
  /**
   * The same result as `update` for each change in turn (a later change of one address sees
   * the earlier one's state), in as few requests as the store can make it; each write still
   * checks that nobody wrote the address since it was read. `assumeNew`: skip the read and
   * write every address as absent (conditional on it), reading only if one exists.
   */
  updateMany(changes: readonly StoreChange[], options?: { assumeNew?: boolean }): Promise<BulkResult>;
}

export interface BulkResult {
  decisions: Decision[];
  /** How it went: all written as new without a read, read then written together, or one by one after a lost race. */
  path: 'assumed-new' | 'read' | 'one-by-one';
  /** Addresses that existed before (known when read). */
  existing: number;
}
