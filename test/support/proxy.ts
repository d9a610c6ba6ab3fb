import { connect, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  url: string;
  port: number;
  /** Destroys every open connection through the proxy (both sides), as a network drop would. */
  dropAll(): void;
  /** While refusing, new connections are closed at once (the server looks unreachable). */
  refuse(on: boolean): void;
  /**
   * The next `n` answers from the server are never delivered: the connection is cut as the answer starts, after
   * the server did the work (the case where a client cannot tell whether its request was applied).
   */
  cutAnswers(n: number): void;
  /** How many connections were accepted so far. */
  connections(): number;
  /** Request lines seen so far, e.g. `POST /graphql` (from the client's bytes, approximately: enough for tests). */
  requests(): string[];
  /** Everything the clients sent, as text. */
  sent(): string;
  close(): Promise<void>;
}

/** A TCP proxy on 127.0.0.1 in front of a test server, for tests of clients that must survive a dropped connection. */
export async function startProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const open = new Set<Socket>();
  let refusing = false;
  let accepted = 0;
  let cutting = 0;
  const seen: string[] = [];
  let sent = '';
  const server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    accepted++;
    const upstream = connect(Number(target.port), target.hostname);
    open.add(client);
    open.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (chunk: Buffer) => {
      sent += chunk.toString('latin1');
      for (const m of chunk.toString('latin1').matchAll(/(?:^|\r\n)(GET|POST|PUT|DELETE|PATCH) (\S+) HTTP\/1/g)) {
        seen.push(`${m[1]} ${m[2]}`);
      }
    });
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (cutting > 0 && chunk.toString('latin1').startsWith('HTTP/1.1 ')) {
        cutting--;
        end();
        return;
      }
      client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const dropAll = () => {
    for (const s of open) s.destroy();
    open.clear();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dropAll,
    refuse: (on) => {
      refusing = on;
    },
    cutAnswers: (n) => {
      cutting = n;
    },
    connections: () => accepted,
    requests: () => [...seen],
    sent: () => sent,
    close: async () => {
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
