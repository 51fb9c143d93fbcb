/**
 * A TCP proxy that can make the service behind it unavailable (bench:faults puts it in front
 * of DynamoDB Local): `pass` forwards, `reset` drops every open connection and resets each new
 * one at once (connection refused / reset), `blackhole` accepts and forwards nothing, so
 * requests hang until the client gives up or the outage ends (its connections are then reset).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'reset' | 'blackhole';

export interface FaultProxy {
  url: string;
  mode: ProxyMode;
  setMode(mode: ProxyMode): void;
  /** Connections reset or held by a fault so far. */
  readonly refused: number;
  stop(): Promise<void>;
}

export async function startFaultProxy(target: { host: string; port: number }, port = 0): Promise<FaultProxy> {
  const open = new Set<Socket>();
  const held = new Set<Socket>();
  let mode: ProxyMode = 'pass';
  let refused = 0;
  const server: Server = createServer((client) => {
    if (mode !== 'pass') {
      refused++;
      if (mode === 'reset') client.resetAndDestroy();
      else {
        held.add(client);
        client.on('error', () => undefined);
        client.on('close', () => held.delete(client));
      }
      return;
    }
    const upstream = connect(target.port, target.host);
    open.add(client);
    const close = () => {
      open.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  const listening = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://127.0.0.1:${listening}`,
    get mode() {
      return mode;
    },
    get refused() {
      return refused;
    },
    setMode(next: ProxyMode) {
      mode = next;
      // Any change resets what a fault holds; an outage also cuts what was open when it began.
      for (const s of held) s.resetAndDestroy();
      held.clear();
      if (next !== 'pass') {
        for (const s of open) s.resetAndDestroy();
        open.clear();
      }
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of [...open, ...held]) s.destroy();
        server.close(() => resolve());
      }),
  };
}
