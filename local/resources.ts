/**
 * Creates the CloudFormation resources of serverless.yml on the emulators and resolves the
 * intrinsics (Ref, Fn::GetAtt, Fn::Sub, Fn::Join) that function environments use.
 *
 * Created: AWS::SQS::Queue (visibility, retention, redrive), AWS::SNS::Topic,
 * AWS::SNS::Subscription (raw or enveloped, filter policy), AWS::S3::Bucket,
 * AWS::DynamoDB::Table (keys, GSIs, streams, TTL). Everything else (IAM, alarms, policies) has
 * no local meaning and is listed as skipped.
 */
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { CreateTopicCommand, SubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { CfnResource } from './serverless-config.ts';

export class ResourceResolutionError extends Error {
  override name = 'ResourceResolutionError';
}

const LOCAL_ACCOUNT = '000000000000';

export interface CreatedResource {
  type: string;
  name: string;
  ref: string;
  attributes: Record<string, string>;
}

export interface Clients {
  sqs: SQSClient;
  sns: SNSClient;
  s3: S3Client;
  dynamodb: DynamoDBClient;
}

export class ResourceRegistry {
  readonly created = new Map<string, CreatedResource>();
  readonly skipped: string[] = [];

  constructor(
    readonly region: string,
    readonly stackName: string,
  ) {}

  ref(logicalId: string): string {
    const pseudo: Record<string, string> = {
      'AWS::Region': this.region,
      'AWS::AccountId': LOCAL_ACCOUNT,
      'AWS::Partition': 'aws',
      'AWS::StackName': this.stackName,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::NoValue': '',
    };
    if (logicalId in pseudo) return pseudo[logicalId] as string;
    const resource = this.created.get(logicalId);
    if (!resource) throw new ResourceResolutionError(`Ref to ${logicalId}, which is not created locally`);
    return resource.ref;
  }

  getAtt(logicalId: string, attribute: string): string {
    const resource = this.created.get(logicalId);
    const value = resource?.attributes[attribute];
    if (value === undefined) throw new ResourceResolutionError(`Fn::GetAtt ${logicalId}.${attribute} is not available locally`);
    return value;
  }

  /** Resolve intrinsics inside any value. */
  resolve(node: unknown): unknown {
    if (Array.isArray(node)) return node.map((n) => this.resolve(n));
    if (typeof node !== 'object' || node === null) return node;
    const entries = Object.entries(node);
    if (entries.length === 1) {
      const [key, arg] = entries[0] as [string, unknown];
      if (key === 'Ref') return this.ref(String(arg));
      if (key === 'Fn::GetAtt') {
        const [id, attr] = Array.isArray(arg) ? arg : String(arg).split('.');
        return this.getAtt(String(id), String(attr));
      }
      if (key === 'Fn::Join') {
        const [delimiter, parts] = arg as [string, unknown[]];
        return (this.resolve(parts) as unknown[]).join(delimiter);
      }
      if (key === 'Fn::Sub') {
        const [template, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
        const resolvedVars = this.resolve(vars) as Record<string, unknown>;
        return template.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
          if (name in resolvedVars) return String(resolvedVars[name]);
          const [id, attr] = name.split('.');
          return attr ? this.getAtt(String(id), attr) : this.ref(String(id));
        });
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v)]));
  }
}

function str(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : String(value);
}

async function createQueue(id: string, props: Record<string, unknown>, reg: ResourceRegistry, clients: Clients): Promise<void> {
  const p = reg.resolve(props) as Record<string, unknown>;
  const name = String(p.QueueName ?? `${reg.stackName}-${id}`);
  const attributes: Record<string, string> = {};
  for (const key of ['VisibilityTimeout', 'MessageRetentionPeriod', 'DelaySeconds', 'ReceiveMessageWaitTimeSeconds', 'MaximumMessageSize']) {
    const v = str(p[key]);
    if (v !== undefined) attributes[key] = v;
  }
  if (p.RedrivePolicy) attributes.RedrivePolicy = JSON.stringify(p.RedrivePolicy);
  const out = await clients.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const url = String(out.QueueUrl);
  const attrs = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = attrs.Attributes?.QueueArn ?? `arn:aws:sqs:${reg.region}:${LOCAL_ACCOUNT}:${name}`;
  reg.created.set(id, { type: 'AWS::SQS::Queue', name, ref: url, attributes: { Arn: arn, QueueName: name, QueueUrl: url } });
}

async function createTopic(id: string, props: Record<string, unknown>, reg: ResourceRegistry, clients: Clients): Promise<void> {
  const p = reg.resolve(props) as Record<string, unknown>;
  const name = String(p.TopicName ?? `${reg.stackName}-${id}`);
  const out = await clients.sns.send(new CreateTopicCommand({ Name: name }));
  const arn = String(out.TopicArn);
  reg.created.set(id, { type: 'AWS::SNS::Topic', name, ref: arn, attributes: { TopicArn: arn, TopicName: name } });
}

async function createSubscription(id: string, props: Record<string, unknown>, reg: ResourceRegistry, clients: Clients): Promise<void> {
  const p = reg.resolve(props) as Record<string, unknown>;
  const attributes: Record<string, string> = {};
  if (p.RawMessageDelivery !== undefined) attributes.RawMessageDelivery = String(p.RawMessageDelivery);
  if (p.FilterPolicy) attributes.FilterPolicy = JSON.stringify(p.FilterPolicy);
  if (p.FilterPolicyScope) attributes.FilterPolicyScope = String(p.FilterPolicyScope);
  const out = await clients.sns.send(
    new SubscribeCommand({
      TopicArn: String(p.TopicArn),
      Protocol: String(p.Protocol),
      Endpoint: String(p.Endpoint),
      Attributes: attributes,
      ReturnSubscriptionArn: true,
    }),
  );
  const arn = String(out.SubscriptionArn);
  reg.created.set(id, { type: 'AWS::SNS::Subscription', name: arn, ref: arn, attributes: {} });
}

async function createBucket(id: string, props: Record<string, unknown>, reg: ResourceRegistry, clients: Clients): Promise<void> {
  const p = reg.resolve(props) as Record<string, unknown>;
  const name = String(p.BucketName ?? `${reg.stackName}-${id}`.toLowerCase());
  await clients.s3.send(new CreateBucketCommand({ Bucket: name }));
  reg.created.set(id, { type: 'AWS::S3::Bucket', name, ref: name, attributes: { Arn: `arn:aws:s3:::${name}`, DomainName: name } });
}

async function createTable(id: string, props: Record<string, unknown>, reg: ResourceRegistry, clients: Clients): Promise<void> {
  const p = reg.resolve(props) as Record<string, unknown>;
  const name = String(p.TableName ?? `${reg.stackName}-${id}`);
  const stream = p.StreamSpecification as { StreamViewType?: string } | undefined;
  const input: CreateTableCommandInput = {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: p.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
    KeySchema: p.KeySchema as CreateTableCommandInput['KeySchema'],
    ...(p.GlobalSecondaryIndexes ? { GlobalSecondaryIndexes: p.GlobalSecondaryIndexes as CreateTableCommandInput['GlobalSecondaryIndexes'] } : {}),
    ...(stream?.StreamViewType ? { StreamSpecification: { StreamEnabled: true, StreamViewType: stream.StreamViewType as 'NEW_AND_OLD_IMAGES' } } : {}),
  };
  await clients.dynamodb.send(new CreateTableCommand(input));
  const ttl = p.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
  if (ttl?.Enabled && ttl.AttributeName) {
    await clients.dynamodb.send(
      new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true } }),
    );
  }
  const described = await clients.dynamodb.send(new DescribeTableCommand({ TableName: name }));
  const attributes: Record<string, string> = { Arn: String(described.Table?.TableArn) };
  if (described.Table?.LatestStreamArn) attributes.StreamArn = described.Table.LatestStreamArn;
  reg.created.set(id, { type: 'AWS::DynamoDB::Table', name, ref: name, attributes });
}

const CREATORS: Record<string, typeof createQueue> = {
  'AWS::DynamoDB::Table': createTable,
  'AWS::S3::Bucket': createBucket,
  'AWS::SNS::Topic': createTopic,
  'AWS::SQS::Queue': createQueue,
  'AWS::SNS::Subscription': createSubscription,
};

/** Queues that others redrive into must exist first; subscriptions need topics and queues. */
function rank(resource: CfnResource): number {
  const base = Object.keys(CREATORS).indexOf(resource.Type) * 10;
  return resource.Type === 'AWS::SQS::Queue' && resource.Properties?.RedrivePolicy ? base + 1 : base;
}

export async function provisionResources(resources: Record<string, CfnResource>, reg: ResourceRegistry, clients: Clients): Promise<void> {
  const entries = Object.entries(resources).sort(([, a], [, b]) => rank(a) - rank(b));
  for (const [id, resource] of entries) {
    const create = CREATORS[resource.Type];
    if (!create) {
      reg.skipped.push(`${id} (${resource.Type})`);
      continue;
    }
    await create(id, resource.Properties ?? {}, reg, clients);
  }
}
