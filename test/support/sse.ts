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
