import { type ServerResponse, STATUS_CODES } from 'node:http';

/**
 * An answer of the edge, before it is written: to node's response (`writeReply`), as a fetch-API Response
 * (`replyResponse`, for yoga and Hono) or as raw HTTP/1.1 on a socket (node's clientError).
 */
export interface ErrorReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The logger for callers that pass only VigilErrors: those are never faults, so the mappers log nothing. */
export const NOTHING_TO_LOG = { error: () => {} };

export function writeReply(res: ServerResponse, reply: ErrorReply): void {
  res.writeHead(reply.status, { ...reply.headers, 'content-length': String(Buffer.byteLength(reply.body)) });
  res.end(reply.body);
}

export function replyResponse(reply: ErrorReply): Response {
  return new Response(reply.body, {
    status: reply.status,
    statusText: STATUS_CODES[reply.status] ?? '',
    headers: reply.headers,
  });
}
