/** The local runner reads serverless.yml itself; these pin down how it resolves what it reads. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadServiceConfig, ServerlessConfigError } from '../../local/serverless-config.ts';
import { ResourceRegistry, ResourceResolutionError } from '../../local/resources.ts';
import { dynamoJvmFlags } from '../../local/emulators.ts';

function write(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'mb-cfg-')), 'serverless.yml');
  writeFileSync(file, yaml);
  return file;
}

const YAML = `
service: svc
custom:
  prefix: \${self:service}-\${sls:stage}
  alarm: \${env:MB_TEST_ALARM, 'none'}
  nested:
    size: 3
provider:
  stage: \${opt:stage, 'dev'}
  environment:
    TABLE: { Ref: Table }
    SIZE: \${self:custom.nested.size}
functions:
  f:
    handler: functions/f/handler.handler
    environment:
      ALARM: \${self:custom.alarm}
resources:
  Resources:
    Table:
      Type: AWS::DynamoDB::Table
      Properties:
        TableName: \${self:custom.prefix}-t
    Role:
      Type: AWS::IAM::Role
      Properties:
        Path:
          Fn::Sub: arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:\${self:custom.prefix}
`;

describe('serverless.yml variables', () => {
  it('resolves self, sls, opt and env variables and keeps CloudFormation intrinsics', () => {
    const config = loadServiceConfig(write(YAML), { stage: 'qa', env: { MB_TEST_ALARM: 'ops@example.org' } });
    expect(config.stage).toBe('qa');
    expect(config.resources.Table?.Properties?.TableName).toBe('svc-qa-t');
    expect(config.functions.f?.environment?.ALARM).toBe('ops@example.org');
    // A lone variable keeps its type; intrinsics stay for the registry.
    expect(config.provider.environment?.SIZE).toBe(3);
    expect(config.provider.environment?.TABLE).toEqual({ Ref: 'Table' });
    expect(config.resources.Role?.Properties?.Path).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:svc-qa' });
  });

  it('uses defaults and fails on variables it cannot resolve', () => {
    expect(loadServiceConfig(write(YAML), { env: {} }).functions.f?.environment?.ALARM).toBe('none');
    expect(() => loadServiceConfig(write(`service: s\nprovider: {}\ncustom:\n  x: \${ssm:/param}\nresources:\n  Resources:\n    T:\n      Type: AWS::SNS::Topic\n      Properties:\n        TopicName: \${self:custom.x}\n`), {})).toThrow(ServerlessConfigError);
    expect(() => loadServiceConfig(write(`service: s\nprovider: {}\nfunctions:\n  f:\n    handler: h.h\n    environment:\n      A: \${env:MB_SURELY_UNSET_VAR}\n`), { env: {} })).toThrow(/has no value/);
  });
});

describe('intrinsics against local resources', () => {
  const reg = new ResourceRegistry('eu-west-1', 'svc-qa');
  reg.created.set('Queue', { type: 'AWS::SQS::Queue', name: 'q', ref: 'http://q', attributes: { Arn: 'arn:aws:sqs:eu-west-1:000000000000:q', QueueName: 'q' } });

  it('resolves Ref, Fn::GetAtt (both spellings), Fn::Sub and Fn::Join', () => {
    expect(reg.resolve({ Ref: 'Queue' })).toBe('http://q');
    expect(reg.resolve({ 'Fn::GetAtt': ['Queue', 'Arn'] })).toBe('arn:aws:sqs:eu-west-1:000000000000:q');
    expect(reg.resolve({ 'Fn::GetAtt': 'Queue.QueueName' })).toBe('q');
    expect(reg.resolve({ 'Fn::Sub': '${AWS::Region}/${Queue.QueueName}/${Queue}' })).toBe('eu-west-1/q/http://q');
    expect(reg.resolve({ 'Fn::Sub': ['${A}-x', { A: { Ref: 'AWS::AccountId' } }] })).toBe('000000000000-x');
    expect(reg.resolve({ 'Fn::Join': ['-', ['a', { Ref: 'AWS::StackName' }]] })).toBe('a-svc-qa');
  });

  it('names what it cannot resolve', () => {
    expect(() => reg.resolve({ Ref: 'Missing' })).toThrow(ResourceResolutionError);
    expect(() => reg.resolve({ 'Fn::GetAtt': ['Queue', 'StreamArn'] })).toThrow(/Queue.StreamArn/);
  });
});

describe('DynamoDB Local JVM profiles', () => {
  it('keeps the tests on C1 only and gives npm start the full tiered JIT, same GC and heap', () => {
    const quick = dynamoJvmFlags('quick-start');
    const full = dynamoJvmFlags('throughput');
    expect(quick).toContain('-XX:TieredStopAtLevel=1');
    expect(full.some((f) => f.startsWith('-XX:TieredStopAtLevel'))).toBe(false);
    expect(full).toEqual(quick.filter((f) => f !== '-XX:TieredStopAtLevel=1'));
    expect(full).toEqual(expect.arrayContaining(['-XX:+UseSerialGC', '-Xmx256m']));
  });
});
