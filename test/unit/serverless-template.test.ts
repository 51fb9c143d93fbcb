/**
 * Packages serverless.yml offline (osls + serverless-esbuild, no AWS credentials) and checks
 * the properties operations depend on in the CloudFormation it produces.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAwsServiceSpec } from '@aws-cdk/aws-service-spec';
import { beforeAll, describe, expect, it } from 'vitest';
import { retentionProblems, specProblems, sqsMappingProblems, type Template } from './cloudformation-checks.ts';
import { localClosure } from './source-imports.ts';
import { BUNDLE_BUDGETS_KIB, KIB } from '../../bench/bundle-budgets.ts';

const ROOT = join(import.meta.dirname, '..', '..');
type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: unknown };
let resources: Record<string, Resource>;
let template: Template;
let outDir: string;

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const refId = (value: any): string | undefined => value?.Ref ?? value?.['Fn::GetAtt']?.[0];

beforeAll(() => {
  outDir = mkdtempSync(join(tmpdir(), 'mailbridge-package-'));
  execFileSync(join(ROOT, 'node_modules', '.bin', 'osls'), ['package', '--stage', 'ci', '--region', 'eu-west-1', '--package', outDir], {
    cwd: ROOT,
    env: { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', SLS_TELEMETRY_DISABLED: '1' },
    stdio: 'pipe',
  });
  template = JSON.parse(readFileSync(join(outDir, 'cloudformation-template-update-stack.json'), 'utf8'));
  resources = template.Resources as Record<string, Resource>;
}, 120_000);

describe('packaged CloudFormation template', () => {
  it('runs every function on nodejs22.x with its own role and a zip of its own', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(0);
    const roles = new Set<string>();
    for (const [, fn] of functions) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      const role = refId(fn.Properties.Role);
      expect(role, 'function role').toBeDefined();
      roles.add(role as string);
    }
    expect(roles.size).toBe(functions.length);
    const zips = readdirSync(outDir).filter((f) => f.endsWith('.zip'));
    expect(zips.length).toBe(functions.length);
  });

  it('gives every source queue a DLQ, and every DLQ an alarm', () => {
    const queues = ofType('AWS::SQS::Queue');
    // Dead-letter queues: redrive targets, and where a stream mapping sends batches it gave up on.
    const onFailure = ofType('AWS::Lambda::EventSourceMapping').map(([, m]) => refId(m.Properties.DestinationConfig?.OnFailure?.Destination));
    const dlqs = new Set([...queues.map(([, q]) => refId(q.Properties.RedrivePolicy?.deadLetterTargetArn)), ...onFailure].filter(Boolean));
    const sources = new Set(ofType('AWS::Lambda::EventSourceMapping').map(([, m]) => refId(m.Properties.EventSourceArn)));
    for (const [id] of queues) {
      if (dlqs.has(id)) continue;
      expect(sources.has(id) || dlqs.has(id), `${id} is a source queue`).toBe(true);
      expect(queues.find(([q]) => q === id)?.[1].Properties.RedrivePolicy?.maxReceiveCount, `${id} redrive`).toBeGreaterThan(0);
    }
    const alarmed = new Set(
      ofType('AWS::CloudWatch::Alarm').map(([, a]) => refId(a.Properties.Dimensions?.find((d: any) => d.Name === 'QueueName')?.Value)),
    );
    expect(dlqs.size).toBeGreaterThan(0);
    for (const dlq of dlqs) expect(alarmed.has(dlq), `${dlq} alarm`).toBe(true);
  });

  it('alarms on the HTTP API answering 5xx and on a function refusing everything for a missing secret', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const apis = ofType('AWS::ApiGatewayV2::Api').map(([id]) => id);
    expect(apis.length).toBe(1);
    const on5xx = alarms.find((a) => a.Namespace === 'AWS/ApiGateway' && a.MetricName === '5xx');
    expect(refId(on5xx?.Dimensions?.find((d: any) => d.Name === 'ApiId')?.Value)).toBe(apis[0]);
    const missing = alarms
      .filter((a) => a.Namespace === 'mailbridge' && /SecretMissing$/.test(a.MetricName))
      .map((a) => [a.MetricName, a.Dimensions?.find((d: any) => d.Name === 'service')?.Value]);
    expect(missing.sort()).toEqual([
      ['UnsubscribeSecretMissing', 'unsubscribe'],
      ['WebhookSecretMissing', 'mailtrap-webhook'],
    ]);
    // The names are the ones the functions emit, under the service name each function runs as.
    for (const [metric, service] of missing) {
      const fn = ofType('AWS::Lambda::Function').find(([, f]) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === service);
      expect(fn, `${service} function`).toBeDefined();
      const source = readFileSync(join(ROOT, 'functions', service as string, 'handler.ts'), 'utf8');
      expect(source).toContain(`'${metric}'`);
    }
    for (const a of alarms) expect(refId(a.AlarmActions?.[0]), a.AlarmName).toBe('AlarmTopic');
  });

  it('reports batch item failures on every SQS and stream mapping', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping');
    expect(mappings.length).toBeGreaterThan(0);
    for (const [id, m] of mappings) expect(m.Properties.FunctionResponseTypes, id).toEqual(['ReportBatchItemFailures']);
  });

  it('caps every SQS mapping on the mapping (ScalingConfig), never below it with reserved concurrency', () => {
    const queues = new Set(ofType('AWS::SQS::Queue').map(([id]) => id));
    const sqsMappings = ofType('AWS::Lambda::EventSourceMapping').filter(([, m]) => queues.has(refId(m.Properties.EventSourceArn) ?? ''));
    // ses-feedback, mailtrap-events, inbound-parse at least.
    expect(sqsMappings.length).toBeGreaterThanOrEqual(3);
    for (const [id, m] of sqsMappings) expect(m.Properties.ScalingConfig?.MaximumConcurrency, id).toBeGreaterThanOrEqual(2);
    expect(sqsMappingProblems(template)).toEqual([]);
  });

  it('retains every table and bucket that holds data on stack deletion and replacement', () => {
    const data = [...ofType('AWS::DynamoDB::Table'), ...ofType('AWS::S3::Bucket')].map(([id]) => id).filter((id) => id !== 'ServerlessDeploymentBucket');
    expect(data).toEqual(expect.arrayContaining(['InboundBucket', 'InboundTable', 'QuarantineBucket', 'SuppressionSyncBucket', 'SuppressionSyncTable', 'SuppressionsTable']));
    // The framework's deployment bucket holds only the packaged zips and templates.
    expect(retentionProblems(template, new Set(['ServerlessDeploymentBucket']))).toEqual([]);
  });

  it('is valid against the CloudFormation resource specification (types, property names and types, references)', async () => {
    const db = await loadAwsServiceSpec();
    expect(specProblems(template, db)).toEqual([]);
  }, 60_000);

  it('keeps the suppression table recoverable and streaming', () => {
    const table = resources.SuppressionsTable as Resource;
    expect(table.Properties.StreamSpecification.StreamViewType).toBe('NEW_AND_OLD_IMAGES');
    expect(table.Properties.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled).toBe(true);
    expect(table.Properties.SSESpecification.SSEEnabled).toBe(true);
  });

  // SES v2 actions the Service Authorization Reference lists without a resource type: IAM only
  // accepts Resource "*" for them (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsimpleemailservicev2.html).
  const RESOURCELESS_ACTIONS = new Set([
    'ses:PutSuppressedDestination',
    'ses:DeleteSuppressedDestination',
    'ses:ListSuppressedDestinations',
    'ses:CreateImportJob',
    'ses:GetImportJob',
  ]);

  it('grants each role only named actions on named resources', () => {
    const roles = ofType('AWS::IAM::Role').filter(([id]) => id !== 'IamRoleLambdaExecution');
    expect(roles.length).toBe(ofType('AWS::Lambda::Function').length);
    for (const [id, role] of roles) {
      for (const policy of role.Properties.Policies) {
        for (const statement of policy.PolicyDocument.Statement) {
          const actions = [statement.Action].flat();
          for (const action of actions) expect(action, `${id} action`).not.toMatch(/\*/);
          if (statement.Resource === '*' && actions.every((a) => RESOURCELESS_ACTIONS.has(a))) continue;
          for (const resource of [statement.Resource].flat()) {
            expect(resource, `${id} resource`).not.toBe('*');
            if (typeof resource === 'string') expect(resource, `${id} resource`).not.toMatch(/:\*$|^\*$/);
          }
        }
      }
    }
  });

  it('blocks public access and encrypts every bucket', () => {
    const buckets = ofType('AWS::S3::Bucket');
    for (const [id, b] of buckets) {
      expect(b.Properties.PublicAccessBlockConfiguration, id).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(b.Properties.BucketEncryption?.ServerSideEncryptionConfiguration?.length, id).toBeGreaterThan(0);
    }
    // At least the deployment bucket; the inbound bucket joins it.
    expect(buckets.length).toBeGreaterThan(0);
  });

  it('authorises the suppression API with IAM, and leaves only the signed webhook open', () => {
    const routes = Object.fromEntries(ofType('AWS::ApiGatewayV2::Route').map(([, r]) => [r.Properties.RouteKey, r.Properties.AuthorizationType]));
    for (const method of ['GET', 'PUT', 'DELETE']) expect(routes[`${method} /suppressions/{email}`], method).toBe('AWS_IAM');
    // Mailtrap cannot sign with SigV4: the webhook checks its HMAC signature instead.
    // Mail clients and people cannot sign either: the unsubscribe routes check their own signed tokens.
    expect(Object.entries(routes).filter(([, auth]) => auth !== 'AWS_IAM').map(([key]) => key).sort()).toEqual(
      ['GET /unsubscribe/{token}', 'POST /unsubscribe/{token}', 'POST /webhooks/mailtrap'].sort(),
    );
  });

  it('throttles the public unsubscribe routes on the HTTP API stage', () => {
    const [[, stage]] = ofType('AWS::ApiGatewayV2::Stage') as [[string, Resource]];
    for (const key of ['GET /unsubscribe/{token}', 'POST /unsubscribe/{token}']) {
      const settings = stage.Properties.RouteSettings?.[key];
      expect(settings?.ThrottlingRateLimit, key).toBeGreaterThan(0);
      expect(settings?.ThrottlingBurstLimit, key).toBeGreaterThan(0);
      // The stage can only name routes that exist already.
      const route = ofType('AWS::ApiGatewayV2::Route').find(([, r]) => r.Properties.RouteKey === key)?.[0];
      expect(stage.DependsOn, key).toContain(route);
    }
  });

  it('gives the addressRef key, from the generated secret, to exactly the functions that log address references', () => {
    const [[secretId, secret]] = ofType('AWS::SecretsManager::Secret') as [[string, Resource]];
    expect(secret.Properties.GenerateSecretString?.PasswordLength).toBeGreaterThanOrEqual(32);
    expect(secret.Properties.SecretString, 'generated, never typed into the template').toBeUndefined();
    const reference = { 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: secretId }, ':SecretString}}']] };
    const logging: string[] = [];
    for (const [id, fn] of ofType('AWS::Lambda::Function')) {
      // The handler file and every file it loads: does any of them log an addressRef?
      const entry = join(ROOT, `${String(fn.Properties.Handler).replace(/\.[^.]+$/, '')}.ts`);
      const logs = [...localClosure(entry)].some((file) => !file.endsWith('observability.ts') && /\baddressRef\(/.test(readFileSync(file, 'utf8')));
      const value = fn.Properties.Environment?.Variables?.ADDRESS_REF_KEY;
      if (logs) {
        logging.push(id);
        expect(value, `${id} logs addressRefs`).toEqual(reference);
      } else {
        expect(value, `${id} logs no addressRefs`).toBeUndefined();
      }
    }
    expect(logging.length).toBeGreaterThanOrEqual(8);
    // Resolved by CloudFormation at deploy time: no function role reads Secrets Manager.
    for (const [id, role] of ofType('AWS::IAM::Role')) {
      const actions = (role.Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement.flatMap((st: any) => [st.Action].flat()));
      expect(actions.filter((a: string) => a.startsWith('secretsmanager:')), id).toEqual([]);
    }
  });

  it('keeps every function bundle within its budget (bench/bundle-budgets.ts)', () => {
    const zips = readdirSync(outDir).filter((f) => f.endsWith('.zip'));
    expect(zips.map((z) => z.replace(/\.zip$/, '')).sort()).toEqual(Object.keys(BUNDLE_BUDGETS_KIB).sort());
    for (const zip of zips) {
      const entries = zipEntries(readFileSync(join(outDir, zip)));
      const bundle = entries.filter((e) => e.name.endsWith('.mjs'));
      expect(bundle.length, `${zip}: one bundle`).toBe(1);
      const budget = (BUNDLE_BUDGETS_KIB[zip.replace(/\.zip$/, '')] ?? 0) * KIB;
      expect(bundle[0]?.size, `${zip} bundle bytes`).toBeLessThanOrEqual(budget);
      // Nothing but the bundle travels in the zip (no node_modules, no source maps).
      expect(entries.reduce((n, e) => n + e.size, 0), `${zip} contents`).toBe(bundle[0]?.size);
      expect(statSync(join(outDir, zip)).size, `${zip} zip`).toBeLessThan(budget);
    }
  });
});

/** Names and uncompressed sizes from a zip's central directory (APPNOTE.TXT 4.3.12, 4.3.16). */
function zipEntries(zip: Buffer): { name: string; size: number }[] {
  let end = zip.length - 22;
  while (end >= 0 && zip.readUInt32LE(end) !== 0x06054b50) end--;
  if (end < 0) throw new Error('not a zip: no end of central directory');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries: { name: string; size: number }[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('zip: bad central directory entry');
    const nameLength = zip.readUInt16LE(at + 28);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    if (!name.endsWith('/')) entries.push({ name, size: zip.readUInt32LE(at + 24) });
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return entries;
}
