import { SESv2Client } from '@aws-sdk/client-sesv2';
import { awsClientSettings } from '../../config.ts';

const { region } = awsClientSettings();
// maxAttempts 1: the sync drains own retries (backoff, attempts on the sync item, the shared
// pace). SDK retries would spend the 1 request/s budget invisibly and hide throttling.
// Endpoint override (local simulator): AWS_ENDPOINT_URL_SESV2.
export const sesv2Client = new SESv2Client({ ...(region ? { region } : {}), maxAttempts: 1 });
