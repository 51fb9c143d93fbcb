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
