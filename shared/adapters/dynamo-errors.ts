/**
 * How the DynamoDB adapters recognise DynamoDB's answers, decided once. A failed condition is
 * the SDK's `ConditionalCheckFailedException`; matched by name too, because an error that
 * crossed a module boundary (another copy of the SDK, a re-thrown error) is not `instanceof`
 * the class this bundle holds.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html#API_PutItem_Errors
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error instanceof Error && error.name === 'ConditionalCheckFailedException');
}

/** Runs a conditional write: true when it was written, false when its condition failed; any other error is thrown. */
export async function conditional(run: () => Promise<unknown>): Promise<boolean> {
  try {
    await run();
    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
}
