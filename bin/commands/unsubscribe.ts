/**
 * `unsubscribe link <email> [--domain d [--stream s]] [--json]`: a one-click unsubscribe URL for
 * the address (everywhere, or one Mailtrap sending domain [and stream]) and the two headers to
 * put on a message. Local stack: its base URL and generated secret. `--stage <name>`: the
 * deployed API (`UnsubscribeBaseUrl` stack output, or MAILBRIDGE_HTTP_URL) and the current secret
 * from SSM (`/mailbridge/<stage>/unsubscribe-secret`).
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { cliEnvironment } from '../../shared/config.ts';
import { isEmailAddress } from '../../shared/domain/email-address.ts';
import { unsubscribeLink, UnsubscribeTokenError, type UnsubscribeStream } from '../../shared/domain/unsubscribe-token.ts';
import { readLocalInfo, TargetError } from '../target.ts';
import { flagString, print, UsageError, type Command, type CommandContext } from './context.ts';

async function deployed(stage: string, region: string): Promise<{ baseUrl: string; secret: string }> {
  let baseUrl = cliEnvironment().httpUrl;
  if (!baseUrl) {
    const cfn = new CloudFormationClient({ region });
    const out = await cfn.send(new DescribeStacksCommand({ StackName: `mailbridge-${stage}` }));
    baseUrl = out.Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === 'UnsubscribeBaseUrl')?.OutputValue ?? '';
    if (!baseUrl) throw new TargetError(`stack mailbridge-${stage} has no UnsubscribeBaseUrl output (set MAILBRIDGE_HTTP_URL)`);
  }
  const name = `/mailbridge/${stage}/unsubscribe-secret`;
  const ssm = new SSMClient({ region });
  const secret = (await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter?.Value;
  if (!secret) throw new TargetError(`SSM parameter ${name} is empty`);
  return { baseUrl, secret };
}

async function link(ctx: CommandContext): Promise<number> {
  const [email] = ctx.args;
  if (!email || !isEmailAddress(email)) throw new UsageError('unsubscribe link needs an email address');
  const domain = flagString(ctx, 'domain');
  const stream = flagString(ctx, 'stream');
  if (stream !== undefined && stream !== 'transactional' && stream !== 'bulk') throw new UsageError('--stream must be transactional or bulk');
  if (stream !== undefined && domain === undefined) throw new UsageError('--stream needs --domain');
  const stage = flagString(ctx, 'stage') ?? cliEnvironment().deployedStage;
  let baseUrl: string;
  let secret: string;
  if (stage) {
    const region = cliEnvironment().region;
    if (!region) throw new TargetError('set AWS_REGION to address a deployed stage');
    ({ baseUrl, secret } = await deployed(stage, region));
  } else {
    const info = readLocalInfo();
    const current = info.secrets.unsubscribe?.[0];
    if (!current) throw new TargetError('the running local stack has no unsubscribe secret (restart it with `npm start`)');
    baseUrl = info.httpUrl;
    secret = current;
  }
  let minted;
  try {
    minted = unsubscribeLink(baseUrl, { email, domain, stream: stream as UnsubscribeStream | undefined }, secret);
  } catch (error) {
    if (error instanceof UnsubscribeTokenError) throw new UsageError(`unsubscribe link: ${error.message}`);
    throw error;
  }
  if (ctx.flags.json) print({ url: minted.url, headers: minted.headers });
  else {
    process.stdout.write(`${minted.url}\n\n`);
    for (const [name, value] of Object.entries(minted.headers)) process.stdout.write(`${name}: ${value}\n`);
  }
  return 0;
}

export const unsubscribe: Command = {
  usage: [
    '  unsubscribe link <email> [--domain <d> [--stream transactional|bulk]] [--json]',
    '                                                         one-click unsubscribe URL and the List-Unsubscribe / List-Unsubscribe-Post headers',
  ].join('\n'),
  async run(ctx) {
    const [sub, ...rest] = ctx.args;
    if (sub !== 'link') throw new UsageError(`unsubscribe: unknown subcommand ${sub ?? '(none)'} (known: link)`);
    return link({ ...ctx, args: rest });
  },
};
