/**
 * Where the CLI points: the running local stack (default; endpoints from the state file
 * `npm start` writes, or MAILBRIDGE_LOCAL_STATE), or a deployed stage (`--stage <name>` /
 * MAILBRIDGE_DEPLOYED_STAGE, standard AWS credentials and region), whose resource names come from the
 * same serverless.yml.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ListTopicsCommand, SNSClient } from '@aws-sdk/client-sns';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LocalInfo } from '../local/stack.ts';
import { loadServiceConfig } from '../local/serverless-config.ts';
import { cliEnvironment } from '../shared/config.ts';
import { syncConfigFromEnv } from '../shared/adapters/sync-deps.ts';
import type { MailtrapStream, SyncConfig } from '../shared/domain/suppression-sync.ts';

export class TargetError extends Error {
  override name = 'TargetError';
}

export interface Target {
  mode: 'local' | 'aws';
  info: Pick<LocalInfo, 'httpUrl' | 'region' | 'queues' | 'topics' | 'tables' | 'buckets' | 'stage'>;
  sqs: SQSClient;
  sns: SNSClient;
  s3: S3Client;
  dynamodb: DynamoDBClient;
  documents: DynamoDBDocumentClient;
}

const ROOT = join(import.meta.dirname, '..');

function stateFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return cliEnvironment(env).localStateFile ?? join(ROOT, '.mailbridge', 'local.json');
}

export function readLocalInfo(env: NodeJS.ProcessEnv = process.env): LocalInfo {
  const file = stateFilePath(env);
  if (!existsSync(file)) {
    throw new TargetError(`no local stack found (${file} is missing): start it with \`npm start\`, or pass --stage <name> for a deployed stage`);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as LocalInfo;
}

function clients(config: { region: string; endpoints?: Record<string, string>; credentials?: { accessKeyId: string; secretAccessKey: string } }) {
  const base = { region: config.region, ...(config.credentials ? { credentials: { ...config.credentials } } : {}) };
  const e = config.endpoints ?? {};
  const dynamodb = new DynamoDBClient({ ...base, ...(e.dynamodb ? { endpoint: e.dynamodb } : {}) });
  // The CLI configures no SDK logger, yet the default no-op one makes the logger middleware copy
  // every request's input through the schema's sensitive-data filter (~20 µs per imported row,
  // ~15 % of the import's CPU): without a logger to feed, the middleware goes.
  dynamodb.middlewareStack.remove('loggerMiddleware');
  return {
    sqs: new SQSClient({ ...base, ...(e.sqs ? { endpoint: e.sqs, useQueueUrlAsEndpoint: false } : {}) }),
    sns: new SNSClient({ ...base, ...(e.sns ? { endpoint: e.sns } : {}) }),
    s3: new S3Client({ ...base, ...(e.s3 ? { endpoint: e.s3, forcePathStyle: true } : {}) }),
    dynamodb,
    documents: DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
  };
}

export async function resolveTarget(stage: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Target> {
  const cli = cliEnvironment(env);
  const deployedStage = stage ?? cli.deployedStage;
  if (!deployedStage) {
    const info = readLocalInfo(env);
    return { mode: 'local', info, ...clients(info) };
  }
  const region = cli.region;
  if (!region) throw new TargetError('set AWS_REGION to address a deployed stage');
  const config = loadServiceConfig(join(ROOT, 'serverless.yml'), { stage: deployedStage, region, env });
  const c = clients({ region });
  const info: Target['info'] = { httpUrl: cli.httpUrl, region, stage: deployedStage, queues: {}, topics: {}, tables: {}, buckets: {} };
  const topicArns: string[] = [];
  for (let token: string | undefined, first = true; first || token; first = false) {
    const page = await c.sns.send(new ListTopicsCommand({ NextToken: token }));
    topicArns.push(...(page.Topics ?? []).map((t) => String(t.TopicArn)));
    token = page.NextToken;
  }
  for (const [id, r] of Object.entries(config.resources)) {
    const p = r.Properties ?? {};
    if (r.Type === 'AWS::SQS::Queue') {
      const name = String(p.QueueName);
      const url = (await c.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl ?? '';
      const dlqRef = (p.RedrivePolicy as { deadLetterTargetArn?: { 'Fn::GetAtt'?: [string, string] } } | undefined)?.deadLetterTargetArn?.['Fn::GetAtt']?.[0];
      info.queues[id] = { name, url, arn: '', dlq: dlqRef };
    } else if (r.Type === 'AWS::SNS::Topic') {
      const name = String(p.TopicName);
      info.topics[id] = { name, arn: topicArns.find((a) => a.endsWith(`:${name}`)) ?? '' };
    } else if (r.Type === 'AWS::DynamoDB::Table') info.tables[id] = { name: String(p.TableName), arn: '' };
    else if (r.Type === 'AWS::S3::Bucket') info.buckets[id] = { name: String(p.BucketName) };
  }
  return { mode: 'aws', info, ...c };
}

export function tableName(target: Target, logicalId: string): string {
  const t = target.info.tables[logicalId];
  if (!t) throw new TargetError(`table ${logicalId} is not part of this stack`);
  return t.name;
}

/** Where the sync pushes: the local stack's own settings (its state file), else the environment of a deployed stage. */
export function syncConfigFor(target: Target): SyncConfig {
  if (target.mode === 'local') {
    const sync = readLocalInfo().sync;
    if (sync) return { mailtrapDomains: sync.mailtrapDomains, mailtrapStreams: sync.mailtrapStreams as MailtrapStream[], sesContactList: sync.sesContactList };
  }
  return syncConfigFromEnv();
}
