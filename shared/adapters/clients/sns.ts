import { SNSClient } from '@aws-sdk/client-sns';
import { awsClientSettings } from '../../config.ts';

const { region } = awsClientSettings();
export const snsClient = new SNSClient({ ...(region ? { region } : {}) });
