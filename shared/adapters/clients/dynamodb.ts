import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientSettings } from '../../config.ts';

// One client per service, built once per cold start. Endpoint overrides (local stack) come
// from the SDK's standard AWS_ENDPOINT_URL_DYNAMODB variable.
const { region } = awsClientSettings();
export const dynamoClient = new DynamoDBClient({ ...(region ? { region } : {}), maxAttempts: 5 });
export const documentClient = DynamoDBDocumentClient.from(dynamoClient, {
  marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
});
