/**
 * The template checks report what they should: each case breaks one thing in a small valid
 * template and expects the check to name it. (serverless-template.test.ts applies the same
 * checks to the packaged template, where they must report nothing.)
 */
import { loadAwsServiceSpec } from '@aws-cdk/aws-service-spec';
import type { SpecDatabase } from '@aws-cdk/service-spec-types';
import { beforeAll, describe, expect, it } from 'vitest';
import { retentionProblems, specProblems, sqsMappingProblems, type Template } from './cloudformation-checks.ts';

let db: SpecDatabase;
beforeAll(async () => {
  db = await loadAwsServiceSpec();
}, 60_000);

function template(): Template {
  return structuredClone({
    Resources: {
      Table: {
        Type: 'AWS::DynamoDB::Table',
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: {
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        },
      },
      Bucket: { Type: 'AWS::S3::Bucket', DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain', Properties: { BucketName: { 'Fn::Sub': 'b-${AWS::AccountId}' } } },
      DLQ: { Type: 'AWS::SQS::Queue', Properties: { MessageRetentionPeriod: 1209600 } },
      Queue: {
        Type: 'AWS::SQS::Queue',
        Properties: { VisibilityTimeout: 180, RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['DLQ', 'Arn'] }, maxReceiveCount: 5 } },
      },
      Role: {
        Type: 'AWS::IAM::Role',
        Properties: { AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [] } },
      },
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: { Role: { 'Fn::GetAtt': ['Role', 'Arn'] }, Code: { ZipFile: 'x' }, Runtime: 'nodejs22.x', Handler: 'h.handler', MemorySize: '256' },
      },
      Mapping: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: {
          EventSourceArn: { 'Fn::GetAtt': ['Queue', 'Arn'] },
          FunctionName: { 'Fn::GetAtt': ['Fn', 'Arn'] },
          BatchSize: 10,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          ScalingConfig: { MaximumConcurrency: 10 },
        },
      },
      StreamMapping: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: { EventSourceArn: { 'Fn::GetAtt': ['Table', 'StreamArn'] }, FunctionName: { Ref: 'Fn' }, StartingPosition: 'TRIM_HORIZON' },
      },
    },
    Outputs: { TableName: { Value: { Ref: 'Table' } } },
  } as Template);
}

const resource = (t: Template, id: string) => t.Resources[id] as { Properties: Record<string, any>; [k: string]: any };

describe('specProblems (CloudFormation resource specification)', () => {
  it('accepts a valid template', () => {
    expect(specProblems(template(), db)).toEqual([]);
  });

  it('reports a misspelled property, top level and nested', () => {
    const t = template();
    resource(t, 'Queue').Properties.VisibiltyTimeout = 30;
    resource(t, 'Mapping').Properties.ScalingConfig = { MaxConcurrency: 10 };
    const problems = specProblems(t, db);
    expect(problems).toEqual([
      expect.stringMatching(/^Queue\.Properties\.VisibiltyTimeout: no such property/),
      expect.stringMatching(/^Mapping\.Properties\.ScalingConfig\.MaxConcurrency: no such property/),
    ]);
  });

  it('reports an unknown resource type and an unknown resource attribute', () => {
    const t = template();
    t.Resources.Other = { Type: 'AWS::SQS::Queu', Properties: {} };
    resource(t, 'Queue').DeletionPolicys = 'Retain';
    expect(specProblems(t, db)).toEqual([
      'Queue: unknown resource attribute DeletionPolicys',
      'Other: resource type AWS::SQS::Queu is not in the CloudFormation resource specification',
    ]);
  });

  it('reports values of the wrong type, and enumerations outside their values', () => {
    const t = template();
    resource(t, 'Mapping').Properties.BatchSize = 'ten';
    resource(t, 'Mapping').Properties.FunctionResponseTypes = 'ReportBatchItemFailures';
    resource(t, 'DLQ').Properties.MessageRetentionPeriod = [1209600];
    resource(t, 'Fn').Properties.PackageType = 'Zipp';
    resource(t, 'Fn').Properties.Code = 'x';
    const problems = specProblems(t, db);
    expect(problems).toContain('Mapping.Properties.BatchSize: expected integer, got "ten"');
    expect(problems).toContain('Mapping.Properties.FunctionResponseTypes: expected list of string, got "ReportBatchItemFailures"');
    expect(problems).toContain('DLQ.Properties.MessageRetentionPeriod: expected integer, got a list');
    expect(problems).toContain('Fn.Properties.PackageType: "Zipp" is not one of Image, Zip');
    expect(problems).toContain('Fn.Properties.Code: expected Code, got "x"');
    expect(problems).toHaveLength(5);
  });

  it('reports a missing required property', () => {
    const t = template();
    delete resource(t, 'Table').Properties.KeySchema;
    delete resource(t, 'Role').Properties.AssumeRolePolicyDocument;
    expect(specProblems(t, db)).toEqual(['Table.Properties.KeySchema: required property missing', 'Role.Properties.AssumeRolePolicyDocument: required property missing']);
  });

  it('reports references to resources or attributes that do not exist', () => {
    const t = template();
    resource(t, 'Mapping').Properties.EventSourceArn = { 'Fn::GetAtt': ['Queue', 'Url'] };
    resource(t, 'Bucket').Properties.BucketName = { 'Fn::Sub': 'b-${AWS::AccountId}-${Tabel}' };
    t.Outputs = { X: { Value: { Ref: 'Missing' } } };
    resource(t, 'Queue').DependsOn = ['Nope'];
    const problems = specProblems(t, db);
    expect(problems).toEqual([
      expect.stringMatching(/^Bucket\.Properties\.BucketName: Fn::Sub names \$\{Tabel\}/),
      'Queue.DependsOn: Nope is not a resource',
      expect.stringMatching(/^Mapping\.Properties\.EventSourceArn: Queue \(AWS::SQS::Queue\) has no attribute Url/),
      expect.stringMatching(/^Outputs\.X\.Value: Ref names Missing/),
    ]);
  });
});

describe('sqsMappingProblems', () => {
  it('accepts a capped mapping with batch item failures; ignores stream mappings', () => {
    expect(sqsMappingProblems(template())).toEqual([]);
  });

  it('reports a mapping without ScalingConfig, below Lambda minimum 2, or without ReportBatchItemFailures', () => {
    const t = template();
    delete resource(t, 'Mapping').Properties.ScalingConfig;
    expect(sqsMappingProblems(t)).toEqual([expect.stringMatching(/^Mapping: ScalingConfig\.MaximumConcurrency must be an integer >= 2/)]);
    resource(t, 'Mapping').Properties.ScalingConfig = { MaximumConcurrency: 1 };
    resource(t, 'Mapping').Properties.FunctionResponseTypes = [];
    expect(sqsMappingProblems(t)).toEqual(['Mapping: FunctionResponseTypes lacks ReportBatchItemFailures', expect.stringMatching(/MaximumConcurrency must be an integer >= 2 \(got 1\)/)]);
  });

  it('reports reserved concurrency below the mapping maximum, accepts it at or above', () => {
    const t = template();
    resource(t, 'Fn').Properties.ReservedConcurrentExecutions = 5;
    expect(sqsMappingProblems(t)).toEqual(["Mapping: Fn has ReservedConcurrentExecutions 5 below the mapping's MaximumConcurrency 10"]);
    resource(t, 'Fn').Properties.ReservedConcurrentExecutions = 10;
    expect(sqsMappingProblems(t)).toEqual([]);
  });
});

describe('retentionProblems', () => {
  it('reports a table or bucket that a deletion or replacement would lose', () => {
    const t = template();
    expect(retentionProblems(t)).toEqual([]);
    delete resource(t, 'Table').UpdateReplacePolicy;
    resource(t, 'Bucket').DeletionPolicy = 'Delete';
    expect(retentionProblems(t)).toEqual(['Table: UpdateReplacePolicy is Delete (default), not Retain', 'Bucket: DeletionPolicy is Delete, not Retain']);
    expect(retentionProblems(t, new Set(['Table', 'Bucket']))).toEqual([]);
  });
});
