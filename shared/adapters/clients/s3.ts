import { S3Client } from '@aws-sdk/client-s3';
import { awsClientSettings } from '../../config.ts';

const settings = awsClientSettings();
export const s3Client = new S3Client({ ...settings });
