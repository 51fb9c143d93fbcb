import { describe, expect, it } from 'vitest';
import { DieAfterSuccess } from '../../../local/event-sources/die-after-success.ts';

describe('DieAfterSuccess (injected fault of the local event sources)', () => {
  it('is off by default', () => {
    const die = new DieAfterSuccess(() => 0);
    expect(die.strikes(['a'])).toBe(false);
    expect(die.killed).toBe(0);
  });

  it('kills the share the random draw selects, each id at most once', () => {
    // Prepare: draws below the rate kill, above it spare.
    const draws = [0.1, 0.9, 0.2, 0.05];
    const die = new DieAfterSuccess(() => draws.shift() ?? 1);
    die.rate = 0.5;
    // Act / Assess
    expect(die.strikes(['a', 'b'])).toBe(true); // 0.1
    expect(die.strikes(['a', 'b'])).toBe(false); // never twice for the same ids, no draw used
    expect(die.strikes(['c'])).toBe(false); // 0.9
    expect(die.strikes(['b', 'c'])).toBe(true); // 0.2: c is new
    expect(die.strikes(['c'])).toBe(false);
    expect(die.killed).toBe(2);
    expect(draws).toEqual([0.05]);
  });
});
