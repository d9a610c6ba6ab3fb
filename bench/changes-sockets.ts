/**
 * The change bench's clients (bench/changes.ts): raw keep-alive HTTP/1.1 sockets for GraphQL requests and
 * `executionChanges` subscriptions on the lean SSE path at POST /graphql.
 */
import { connect, type Socket } from 'node:net';

const SUBSCRIPTION = `subscription($filter: ExecutionFilter, $after: String) {
  executionChanges(filter: $filter, after: $after) { cursor execution { id lastSequence } }
}`;
const FRAME = /"id":"([0-9a-f-]{36})","lastSequence":(\d+)/g;

/**
 * The load generator must cost far less than what it measures: at 1,000 changes/s to 100 subscribers it parses
 * 100,000 frames and sends 1,000 requests a second, and through fetch (undici, web streams) that alone took a core
 * of this 2-core machine, so the bench wrote a third of its rate and measured its own queue. Raw keep-alive sockets
 * instead: a request written as bytes, a response read by its Content-Length, a stream de-chunked by hand.
 */
export function connectTo(base: string): Promise<Socket> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => resolve(socket));
    socket.setNoDelay(true);
    socket.once('error', reject);
  });
}

const request = (base: string, body: string, accept: string) =>
  `POST /graphql HTTP/1.1\r\nHost: ${new URL(base).host}\r\nContent-Type: application/json\r\nAccept: ${accept}\r\n` +
  `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

/** One keep-alive connection sending one GraphQL request at a time (each writer loop has its own). */
export async function client(base: string) {
  const socket = await connectTo(base);
  let buffer: Buffer = Buffer.alloc(0);
  let waiting: { resolve(body: string): void; reject(err: Error): void } | null = null;
  socket.on('data', (data: Buffer) => {
    buffer = buffer.length ? Buffer.concat([buffer, data]) : data;
    const head = buffer.indexOf('\r\n\r\n');
    if (head < 0 || !waiting) return;
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(buffer.subarray(0, head).toString('latin1'))?.[1] ?? -1);
    if (length < 0) return waiting.reject(new Error('a response without Content-Length'));
    if (buffer.length < head + 4 + length) return;
    const body = buffer.subarray(head + 4, head + 4 + length).toString('utf8');
    buffer = buffer.subarray(head + 4 + length);
    const w = waiting;
    waiting = null;
    w.resolve(body);
  });
  socket.on('error', (err) => waiting?.reject(err));
  return {
    async gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
      const text = await new Promise<string>((resolve, reject) => {
        waiting = { resolve, reject };
        socket.write(request(base, JSON.stringify({ query, variables }), 'application/json'));
      });
      const body = JSON.parse(text) as { data: T; errors?: unknown };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return body.data;
    },
    close: () => socket.destroy(),
  };
}

/** Opens one subscription; calls `on(id, lastSequence)` per change received; returns its abort. */
export async function open(
  base: string,
  variables: Record<string, unknown>,
  on: (id: string, sequence: number) => void,
): Promise<() => void> {
  const socket = await connectTo(base);
  socket.write(request(base, JSON.stringify({ query: SUBSCRIPTION, variables }), 'text/event-stream'));
  let raw: Buffer = Buffer.alloc(0);
  let headers = false;
  let text = '';
  socket.on('data', (data: Buffer) => {
    raw = raw.length ? Buffer.concat([raw, data]) : data;
    if (!headers) {
      const end = raw.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (!raw.subarray(0, 12).toString('latin1').endsWith('200')) throw new Error(`subscription refused: ${raw}`);
      headers = true;
      raw = raw.subarray(end + 4);
    }
    // Chunked framing: size line, data, CRLF.
    for (;;) {
      const line = raw.indexOf('\r\n');
      if (line < 0) break;
      const size = Number.parseInt(raw.subarray(0, line).toString('latin1'), 16);
      if (raw.length < line + 2 + size + 2) break;
      text += raw.subarray(line + 2, line + 2 + size).toString('utf8');
      raw = raw.subarray(line + 2 + size + 2);
    }
    const cut = text.lastIndexOf('\n\n');
    if (cut < 0) return;
    for (const m of text.slice(0, cut).matchAll(FRAME)) on(m[1] as string, Number(m[2]));
    text = text.slice(cut + 2);
  });
  socket.on('error', () => {});
  return () => socket.destroy();
}

export async function gql<T>(base: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const c = await client(base);
  try {
    return await c.gql<T>(query, variables);
  } finally {
    c.close();
  }
}
