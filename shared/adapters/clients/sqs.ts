import { SQSClient } from '@aws-sdk/client-sqs';
import { awsClientSettings } from '../../config.ts';

const { region } = awsClientSettings();
// useQueueUrlAsEndpoint: false keeps requests on the configured endpoint (AWS_ENDPOINT_URL_SQS
// locally) instead of the host inside the queue URL; on AWS both are the same.
export const sqsClient = new SQSClient({ ...(region ? { region } : {}), useQueueUrlAsEndpoint: false });
