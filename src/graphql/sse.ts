import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type ExecutionResult,
  execute,
  type FieldNode,
  type GraphQLSchema,
  getArgumentValues,
  getVariableValues,
  Kind,
} from 'graphql';
import { DEFAULT_WAIT_TIMEOUT_SECONDS } from '../domain/inputs.js';
import type { Execution, ExecutionEvent } from '../domain/types.js';
import { prepareEventStream, prepareUpdateStream, type StreamStart } from '../feed/stream.js';
import { toClientError } from '../http/graphql-errors.js';
import type { GraphQLContext } from './context.js';
import type { LeanPathDeps } from './fast.js';
import { answerViaYoga, headerOf, isJson, paramsOf, readBody } from './http.js';

export type SseFlavour = 'yoga' | 'graphql-sse';

const HEADERS: Record<SseFlavour, Record<string, string>> = {
  yoga: {
    'content-type': 'text/event-stream',
    connection: 'keep-alive',
    'cache-control': 'no-cache',
    'content-encoding': 'none',
  },
  'graphql-sse': {
    connection: 'keep-alive',
    'cache-control': 'no-cache',
    'content-encoding': 'none',
    'content-type': 'text/event-stream; charset=utf-8',
  },
};
const PING = Buffer.from(':\n\n');
const COMPLETE = Buffer.from('event: complete\ndata:\n\n');
/** Bytes a slow reader may leave unsent before its stream is ended (it re-attaches with its cursor). */
const MAX_UNSENT = 1024 * 1024;
const FRAMES_PER_GROUP = 128;

type Frame = Buffer | Promise<Buffer>;

const CRLF = Buffer.from('\r\n');
const chunks = new WeakMap<Buffer, Buffer>();
/** A frame in HTTP/1.1 chunked framing, built once per frame and shared by every subscriber it goes to. */
function chunkOf(frame: Buffer): Buffer {
  let chunk = chunks.get(frame);
  if (!chunk) {
    chunk = Buffer.concat([Buffer.from(`${frame.length.toString(16)}\r\n`), frame, CRLF]);
    chunks.set(frame, chunk);
  }
  return chunk;
}

/**
 * Writes a frame. Once the headers are out and nothing waits in the response itself, a chunked response takes the
 * frame already framed straight to its socket: one write instead of node's four (size, CRLF, data, CRLF), which is
 * what a thousand subscribers of one execution cost per event.
 */
function writeFrame(res: ServerResponse, frame: Buffer): void {
  const socket = res.socket;
  const direct = res as unknown as { chunkedEncoding?: boolean; outputSize?: number };
  if (socket && res.headersSent && direct.chunkedEncoding === true && direct.outputSize === 0 && !socket.destroyed)
    socket.write(chunkOf(frame));
  else res.write(frame);
}

/** Subscribers with the same document, variables (cursor and timeout aside) and target: one execution of each item. */
type Executor = (root: unknown) => ExecutionResult | Promise<ExecutionResult>;

interface Group {
  frames: Map<string, Frame>;
  members: number;
  /** Executes the group's document on one item (built from the first member's request). */
  execute?: Executor;
}

/**
 * The lean path for `executionEvents` and `executionUpdated` over SSE: yoga's at POST /graphql and graphql-sse's
 * distinct-connections mode at POST /graphql/stream, byte for byte the same framing. Identical subscribers form a
 * group: each event is executed and serialized once per group and the same bytes are written to every member.
 * Everything else (single-connection mode, other fields, errors before the stream starts) goes to yoga.
 */
export function createSsePath(deps: LeanPathDeps & { schema: GraphQLSchema }) {
  const groups = new Map<string, Group>();
  /** Items executed and serialized (once per group) and frames written (once per subscriber). */
  const stats = { computed: 0, written: 0 };
  const open = new Set<ServerResponse>();
  const pinger = setInterval(() => {
    for (const res of open) res.write(PING);
  }, 12_000);
  pinger.unref();

  const frameOf = (
    group: Group,
    key: string,
    compute: () => ExecutionResult | Promise<ExecutionResult>,
    correlationId: string,
  ): Frame => {
    const hit = group.frames.get(key);
    if (hit) return hit;
    const toFrame = (result: ExecutionResult) => {
      const out = result.errors?.length
        ? { ...result, errors: result.errors.map((e) => toClientError(e, correlationId, deps.log)) }
        : result;
      return Buffer.from(`event: next\ndata: ${JSON.stringify(out)}\n\n`);
    };
    stats.computed += 1;
    const result = compute();
    const frame: Frame = result instanceof Promise ? result.then(toFrame) : toFrame(result);
    if (group.frames.size >= FRAMES_PER_GROUP) group.frames.delete(group.frames.keys().next().value as string);
    group.frames.set(key, frame);
    return frame;
  };

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    correlationId: string,
    remoteAddress: string,
    flavour: SseFlavour,
  ) {
    const serverContext = { correlationId, remoteAddress };
    const eligible =
      req.method === 'POST' &&
      isJson(req.headers['content-type']) &&
      req.headers.accept === 'text/event-stream' &&
      !req.headers['x-graphql-event-stream-token'] &&
      !(req.url ?? '').includes('?');
    if (!eligible) return deps.yoga.handle(req, res, serverContext);
    const body = await readBody(req);
    const viaYoga = () => answerViaYoga(deps.yoga, req, res, body, serverContext);

    const params = paramsOf(body);
    const prepared = params && deps.documents(params.query, params.operationName);
    const root = prepared?.operation.selectionSet.selections;
    const field =
      root?.length === 1 && root[0]?.kind === Kind.FIELD && !root[0].directives?.length ? (root[0] as FieldNode) : null;
    const fieldName = field?.name.value;
    if (!params || !prepared || prepared.operation.operation !== 'subscription' || !field) return viaYoga();
    if (fieldName !== 'executionEvents' && fieldName !== 'executionUpdated') return viaYoga();

    let start: StreamStart<ExecutionEvent> | StreamStart<Execution>;
    let context: GraphQLContext;
    let variableValues: Record<string, unknown>;
    let target: string;
    try {
      const coerced = getVariableValues(
        deps.schema,
        prepared.operation.variableDefinitions ?? [],
        params.variables ?? {},
      );
      if (coerced.errors) return viaYoga();
      variableValues = coerced.coerced;
      const fieldDef = deps.schema.getSubscriptionType()?.getFields()[fieldName];
      if (!fieldDef) return viaYoga();
      const args = getArgumentValues(fieldDef, field, variableValues);
      const principal = await deps.auth.authenticate((name) => headerOf(req, name), remoteAddress);
      const aborted = new AbortController();
      context = { principal, correlationId, signal: aborted.signal, domain: deps.domain, feed: deps.feed, db: deps.db };
      if (fieldName === 'executionEvents') {
        target = String(args.executionId);
        start = await prepareEventStream(deps.feed, deps.db, principal, target, {
          after: args.after as number | null | undefined,
          timeoutSeconds: (args.timeout as number | undefined) ?? DEFAULT_WAIT_TIMEOUT_SECONDS,
        });
      } else {
        target = `${principal.organizationId}/${principal.environment}`;
        start = prepareUpdateStream(deps.feed, principal, args.filter);
      }
    } catch {
      return viaYoga(); // an access or argument error: yoga answers it exactly as it would have
    }

    // The cursor and the timeout change when a subscriber starts and stops, not what an item looks like.
    const cursorVars = new Set(
      (field.arguments ?? [])
        .filter((a) => (a.name.value === 'after' || a.name.value === 'timeout') && a.value.kind === Kind.VARIABLE)
        .map((a) => (a.value as { name: { value: string } }).name.value),
    );
    const shapeVars = Object.fromEntries(Object.entries(variableValues).filter(([k]) => !cursorVars.has(k)));
    const groupKey = `${fieldName}\u0000${target}\u0000${params.operationName ?? ''}\u0000${params.query}\u0000${JSON.stringify(shapeVars)}`;
    let group = groups.get(groupKey);
    if (!group) {
      group = { frames: new Map(), members: 0 };
      groups.set(groupKey, group);
    }
    group.members += 1;
    if (!group.execute) {
      const { document } = prepared;
      const { operationName } = params;
      group.execute = (root) =>
        execute({
          schema: deps.schema,
          document,
          rootValue: root,
          contextValue: context,
          variableValues,
          operationName,
        }) as ExecutionResult | Promise<ExecutionResult>;
    }
    res.writeHead(200, HEADERS[flavour]);
    res.write(PING);
    follow(res, start as StreamStart<ExecutionEvent | Execution>, group, groupKey, correlationId);
  }

  /**
   * Writes a group's frames to one subscriber until its stream ends. Its own function, so the closures a stream
   * keeps for its whole life capture only these few values, not the request's parse state.
   */
  function follow(
    res: ServerResponse,
    start: StreamStart<ExecutionEvent | Execution>,
    g: Group,
    groupKey: string,
    correlationId: string,
  ) {
    open.add(res);
    let pending: Promise<unknown> | null = null;
    let ended = false;
    const write = (frame: Frame) => {
      stats.written += 1;
      if (!pending && Buffer.isBuffer(frame)) {
        writeFrame(res, frame);
        return;
      }
      pending = (pending ?? Promise.resolve())
        .then(() => frame)
        .then((f) => {
          if (!res.destroyed) writeFrame(res, f);
        });
    };
    const cleanup = () => {
      open.delete(res);
      g.members -= 1;
      if (g.members === 0 && groups.get(groupKey) === g) groups.delete(groupKey);
    };
    // The client may have gone while the stream was being prepared: its `close` is then already past.
    if (res.destroyed) return cleanup();
    const cancel = start({
      item: (value) => {
        const key =
          'sequence' in value && 'type' in value
            ? `e${value.sequence}`
            : `u${(value as Execution).id}:${(value as Execution).lastSequence}:${(value as Execution).updatedAt.getTime()}`;
        write(frameOf(g, key, () => (g.execute as Executor)(value), correlationId));
        return res.writableLength < MAX_UNSENT;
      },
      end: () => {
        if (ended) return;
        ended = true;
        cleanup();
        const finish = () => {
          if (!res.destroyed) res.end(COMPLETE);
        };
        if (pending) void pending.then(finish, finish);
        else finish();
      },
    });
    res.once('close', () => {
      if (!ended) {
        ended = true;
        cleanup();
      }
      cancel();
    });
  }

  return { handle, stats };
}
