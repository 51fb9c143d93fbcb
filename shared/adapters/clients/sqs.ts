import { SQSClient } from '@aws-sdk/client-sqs';
import { awsClientSettings } from '../../config.ts';

const { region } = awsClientSettings();
export const sqsClient = new SQSClient({ ...(region ? { region } : {}) });
