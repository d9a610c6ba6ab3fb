export interface SseMessage {
  event: string;
  data: string;
  id: string | undefined;
}

/**
 * Reads a text/event-stream response into messages (comments dropped), with a bound on the whole read:
 * yields until the stream ends or `timeoutMs` passes.
 */
export async function* readSse(res: Response, timeoutMs = 20_000): AsyncGenerator<SseMessage> {
  if (!res.body) return;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const deadline = setTimeout(() => void reader.cancel(), timeoutMs);
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        let event = 'message';
        let id: string | undefined;
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const v = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event = v;
          else if (field === 'data') data.push(v);
          else if (field === 'id') id = v;
        }
        if (data.length || event !== 'message' || id) yield { event, data: data.join('\n'), id };
      }
    }
  } finally {
    clearTimeout(deadline);
    await reader.cancel().catch(() => {});
  }
}

/** Collects every message of a stream (bounded by `timeoutMs`). */
export async function collectSse(res: Response, timeoutMs = 20_000): Promise<SseMessage[]> {
  const out: SseMessage[] = [];
  for await (const m of readSse(res, timeoutMs)) out.push(m);
  return out;
}

/** An HTTP/1.1 exchange on a raw socket that reads nothing until `resume` (a consumer that stopped reading). */
export interface RawExchange {
  /** Starts reading; resolves with the response body (de-chunked) once its last chunk has arrived. */
  resume(timeoutMs?: number): Promise<string>;
  close(): void;
}

export async function rawExchange(baseUrl: string, request: string): Promise<RawExchange> {
  const { createConnection } = await import('node:net');
  const url = new URL(baseUrl);
  const socket = createConnection({ host: url.hostname, port: Number(url.port) });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.pause();
  socket.write(request);
  return {
    resume(timeoutMs = 20_000) {
      const received: Buffer[] = [];
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the response did not end in time')), timeoutMs);
        const done = () => {
          clearTimeout(timer);
          resolve(dechunked(Buffer.concat(received)));
        };
        socket.on('data', (chunk: Buffer) => {
          received.push(chunk);
          const tail = Buffer.concat(received.slice(-2)).subarray(-5);
          if (tail.toString() === '0\r\n\r\n') done();
        });
        socket.once('end', done);
        socket.resume();
      });
    },
    close: () => void socket.destroy(),
  };
}

/** The body of a chunked HTTP/1.1 response. */
function dechunked(raw: Buffer): string {
  let at = raw.indexOf('\r\n\r\n') + 4;
  const parts: Buffer[] = [];
  while (at < raw.length) {
    const eol = raw.indexOf('\r\n', at);
    const size = Number.parseInt(raw.subarray(at, eol).toString(), 16);
    if (!size) break;
    parts.push(raw.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts).toString();
}

/** The messages of an event-stream body (comments dropped). */
export function messagesOf(body: string): SseMessage[] {
  const out: SseMessage[] = [];
  for (const block of body.split('\n\n')) {
    let event = 'message';
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (!line || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const v = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = v;
      else if (field === 'data') data.push(v);
      else if (field === 'id') id = v;
    }
    if (data.length || event !== 'message' || id) out.push({ event, data: data.join('\n'), id });
  }
  return out;
}
