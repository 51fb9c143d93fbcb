import { describe, expect, it } from 'vitest';
import { DYNAMODB_DEFAULT_HEAP_MB, dynamoDbHeapMb } from '../../../local/emulators.ts';

describe('DynamoDB Local heap (local/emulators.ts)', () => {
  it('defaults to 256 MB, takes MAILBRIDGE_DYNAMODB_HEAP_MB, and an explicit option over both', () => {
    expect(dynamoDbHeapMb(undefined, {})).toBe(DYNAMODB_DEFAULT_HEAP_MB);
    expect(DYNAMODB_DEFAULT_HEAP_MB).toBe(256);
    expect(dynamoDbHeapMb(undefined, { MAILBRIDGE_DYNAMODB_HEAP_MB: '1024' })).toBe(1024);
    expect(dynamoDbHeapMb(2048, { MAILBRIDGE_DYNAMODB_HEAP_MB: '1024' })).toBe(2048);
  });

  it('refuses a heap that is not a whole number of MB of at least 64, before starting a JVM', () => {
    expect(() => dynamoDbHeapMb(undefined, { MAILBRIDGE_DYNAMODB_HEAP_MB: '1g' })).toThrow(/whole number of MB/);
    expect(() => dynamoDbHeapMb(32, {})).toThrow(/at least 64/);
    expect(() => dynamoDbHeapMb(512.5, {})).toThrow(RangeError);
  });
});
