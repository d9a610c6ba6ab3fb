import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type DocumentNode,
  type ExecutionResult,
  execute,
  type FieldNode,
  type GraphQLSchema,
  getArgumentValues,
  getVariableValues,
  Kind,
  visit,
} from 'graphql';
import type { CompiledQuery } from 'graphql-jit';
import type { Principal } from '../domain/access.js';
import type { VigilError } from '../domain/errors.js';
import { DEFAULT_WAIT_TIMEOUT_SECONDS } from '../domain/inputs.js';
import type { EventType, Execution, ExecutionEvent } from '../domain/types.js';
import { type ChangeSink, type ChangeStreamStart, type ExecutionChange, prepareChangeStream } from '../feed/changes.js';
import { prepareEventStream, prepareUpdateStream, type StreamSink, type StreamStart } from '../feed/stream.js';
import { type ErrorLogger, graphqlStreamError, graphqlStreamResult } from '../http/graphql-errors.js';
import { nextFrame, type SseProtocol, type SseStream, type SseWriter } from '../http/sse.js';
import type { GraphQLContext } from './context.js';
import { loadedCompiler, type PreparedDocument } from './documents.js';
import type { LeanPathDeps } from './fast.js';
import { type GraphQLParams, headerOf } from './http.js';

const FRAMES_PER_GROUP = 128;
const LEAN_FIELDS = new Set(['executionEvents', 'executionUpdated', 'executionChanges']);

type Item = ExecutionEvent | Execution | ExecutionChange;
/** What every lean stream writes into (a change stream also uses `wait` and `fail`; the others ignore them). */
type LeanStart = (sink: StreamSink<Item> & Omit<ChangeSink, 'item'>) => () => void;

/** What identifies an item's frame within a group. */
function itemKey(value: Item): string {
  if ('cursor' in value) return `c${value.cursor}`;
  if ('sequence' in value && 'type' in value) return `e${value.sequence}`;
  return `u${value.id}:${value.lastSequence}:${value.updatedAt.getTime()}`;
}

/** A frame as every member gets it, or (a result with errors) made per member: each with its own correlation id. */
type Rendered = Buffer | ((correlationId: string) => Buffer);
type Frame = Rendered | Promise<Rendered>;
type Executor = (root: unknown) => ExecutionResult | Promise<ExecutionResult>;

interface Group {
  /** Its key in the groups (one string per group, not one per member). */
  key: string;
  frames: Map<string, Frame>;
  /** Frames by the item they were made from, for as long as the item lives. */
  byItem: WeakMap<Item, Frame>;
  members: number;
  /** Executes the group's document on one item, with the group's own context (no member's key or correlation id). */
  execute: Executor;
  /** Aborted when the last member leaves. */
  aborted: AbortController;
  /** The last frames joined into one write, and the join (shared by the members handed the same frames). */
  joined: { parts: Frame[]; buffer: Buffer } | null;
}

/** A result's frame for one subscriber: errors mapped with its correlation id (a fault is logged once, by the mapper). */
export function resultFrame(result: ExecutionResult, correlationId: string, log: ErrorLogger): Buffer {
  return nextFrame(graphqlStreamResult(result, { correlationId, log }));
}

/** GraphQL's frame for a stream ended early (a slow consumer): `event: next` with the coded error; `complete` follows. */
export function errorFrameOf(correlationId: string, log: ErrorLogger) {
  return (error: VigilError) => nextFrame(graphqlStreamError(error, correlationId, log));
}

/** The root field of a subscription the lean path answers (one `executionEvents` / `executionUpdated`), or null. */
export function leanFieldOf(prepared: PreparedDocument): FieldNode | null {
  const root = prepared.operation.selectionSet.selections;
  const field = root.length === 1 && root[0]?.kind === Kind.FIELD && !root[0].directives?.length ? root[0] : null;
  return field && LEAN_FIELDS.has(field.name.value) ? field : null;
}

/**
 * The variables that only say when a subscriber starts and stops (the `after` and `timeout` arguments of the root
 * field, used nowhere else): they do not change what an item looks like, so subscribers that differ only in them
 * share a group.
 */
function cursorVariables(prepared: PreparedDocument, field: FieldNode): Set<string> {
  const candidates = new Set(
    (field.arguments ?? [])
      .filter((a) => (a.name.value === 'after' || a.name.value === 'timeout') && a.value.kind === Kind.VARIABLE)
      .map((a) => (a.value as { name: { value: string } }).name.value),
  );
  const uses = new Map<string, number>();
  // The whole document (fragments use variables too), declarations aside.
  visit(prepared.document, {
    VariableDefinition: () => false,
    Variable: (node) => void uses.set(node.name.value, (uses.get(node.name.value) ?? 0) + 1),
  });
  return new Set([...candidates].filter((name) => uses.get(name) === 1));
}

/**
 * The lean path for `executionEvents` and `executionUpdated` over SSE: yoga's framing at POST /graphql and
 * graphql-sse's distinct-connections mode at POST /graphql/stream, written by the one SSE writer straight from the
 * feed's callback streams. Identical subscribers form a group: each item is executed and serialized once per group
 * and the same bytes are written to every member. A group is keyed on everything that can change an item's result
 * (field, target, organization, environment, scopes, document, variables other than the cursor) and executes with a
 * context built from those only, so no member's key or correlation id is lent to the others.
 */
export function createSsePath(deps: LeanPathDeps & { schema: GraphQLSchema; sse: SseWriter }) {
  const groups = new Map<string, Group>();
  /** Items executed and serialized (once per group) and frames written (once per subscriber). */
  const stats = { computed: 0, written: 0 };

  const render = (result: ExecutionResult): Rendered =>
    result.errors?.length
      ? (correlationId) => resultFrame(result, correlationId, deps.log)
      : nextFrame(JSON.stringify(result));

  /**
   * An item's frame for a group: found by the item itself when the members are handed the same object (a live batch
   * of any size: the feed shares its objects), else by its key among the last few (members replaying the same items).
   */
  const frameOf = (group: Group, item: Item): Frame => {
    const shared = group.byItem.get(item);
    if (shared) return shared;
    const key = itemKey(item);
    const hit = group.frames.get(key);
    if (hit) {
      group.byItem.set(item, hit);
      return hit;
    }
    stats.computed += 1;
    const result = group.execute(item);
    const frame: Frame = result instanceof Promise ? result.then(render) : render(result);
    if (group.frames.size >= FRAMES_PER_GROUP) group.frames.delete(group.frames.keys().next().value as string);
    group.frames.set(key, frame);
    group.byItem.set(item, frame);
    return frame;
  };

  const groupOf = (
    key: string,
    field: string,
    principal: Principal,
    prepared: PreparedDocument,
    operationName: string | undefined,
    variableValues: Record<string, unknown>,
    variables: Record<string, unknown>,
  ): Group => {
    const existing = groups.get(key);
    if (existing) return existing;
    const aborted = new AbortController();
    const context: GraphQLContext = {
      principal: {
        organizationId: principal.organizationId,
        environment: principal.environment,
        scopes: principal.scopes,
        keyId: null,
      },
      correlationId: '',
      signal: aborted.signal,
      domain: deps.domain,
      feed: deps.feed,
      db: deps.db,
    };
    const { document } = prepared;
    // A change stream's items (every change of every execution a filter matches, 100,000 in a replay) and an event
    // stream's (each live event is executed between its commit and its frame: on the path of a delivery's latency)
    // execute through graphql-jit's compiled form of the document when it is loaded: graphql-js's execute re-coerced
    // the root field's arguments and walked the document for each of them.
    const compiled =
      field === 'executionChanges' || field === 'executionEvents' ? compiledItems(document, operationName) : null;
    // The cursor variables in here are the first member's; they reach only the root field's arguments, which an
    // item's execution does not read (its resolver returns the item).
    const group: Group = {
      key,
      frames: new Map(),
      byItem: new WeakMap(),
      members: 0,
      aborted,
      joined: null,
      execute: compiled
        ? (root) => compiled.query(root, context, variables) as ExecutionResult | Promise<ExecutionResult>
        : (root) =>
            execute({
              schema: deps.schema,
              document,
              rootValue: root,
              contextValue: context,
              variableValues,
              operationName,
            }) as ExecutionResult | Promise<ExecutionResult>,
    };
    groups.set(key, group);
    return group;
  };

  /** graphql-jit's compiled form of a subscription document, for executing its items; null when not loaded or refused. */
  const compiledItems = (document: DocumentNode, operationName: string | undefined): CompiledQuery | null => {
    const jit = loadedCompiler();
    const compiled = jit?.compileQuery(deps.schema, document, operationName);
    return compiled && jit?.isCompiledQuery(compiled) ? compiled : null;
  };

  /**
   * Several frames as one write. Members of a group that are handed the same frames in one batch (the usual case:
   * the tail hands every subscriber the same batch) share one joined buffer, so it is built (and chunk-framed) once.
   * A frame still being executed, or one made per member (errors), makes a join of this member's own.
   */
  const joinedOf = (group: Group, frames: Frame[], correlationId: string): Frame => {
    if (!frames.every((f): f is Buffer => Buffer.isBuffer(f))) {
      return Promise.all(frames).then((rendered) =>
        Buffer.concat(rendered.map((f) => (typeof f === 'function' ? f(correlationId) : f))),
      );
    }
    const last = group.joined;
    if (last && last.parts.length === frames.length && last.parts.every((part, i) => part === frames[i])) {
      return last.buffer;
    }
    const buffer = Buffer.concat(frames);
    group.joined = { parts: frames, buffer };
    return buffer;
  };

  /**
   * Answers a subscription of `field` (from `leanFieldOf`), or returns false, having written nothing, for what it
   * leaves to the libraries: variables that do not coerce, and any error before the stream starts (access,
   * arguments, capacity, existence), which yoga or graphql-sse then answer exactly as they would have.
   */
  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    params: GraphQLParams,
    prepared: PreparedDocument,
    field: FieldNode,
    protocol: SseProtocol,
    correlationId: string,
    remoteAddress: string,
  ): Promise<boolean> {
    const fieldName = field.name.value;
    const coerced = getVariableValues(
      deps.schema,
      prepared.operation.variableDefinitions ?? [],
      params.variables ?? {},
    );
    const fieldDef = deps.schema.getSubscriptionType()?.getFields()[fieldName];
    if (coerced.errors || !fieldDef) return false;
    const variableValues = coerced.coerced;

    let start: StreamStart<ExecutionEvent> | StreamStart<Execution> | ChangeStreamStart;
    let principal: Principal;
    let target: string;
    try {
      const args = getArgumentValues(fieldDef, field, variableValues);
      principal = await deps.auth.authenticate((name) => headerOf(req, name), remoteAddress);
      if (fieldName === 'executionEvents') {
        target = String(args.executionId);
        start = await prepareEventStream(deps.feed, deps.db, principal, target, {
          after: args.after as number | null | undefined,
          timeoutSeconds: (args.timeout as number | undefined) ?? DEFAULT_WAIT_TIMEOUT_SECONDS,
          types: args.types as EventType[] | null | undefined,
        });
      } else if (fieldName === 'executionChanges') {
        target = '';
        start = await prepareChangeStream(deps.feed, deps.db, principal, {
          filter: args.filter,
          after: args.after as string | null | undefined,
        });
      } else {
        target = '';
        start = prepareUpdateStream(deps.feed, principal, args.filter);
      }
    } catch {
      return false;
    }

    const cursor = cursorVariables(prepared, field);
    const shapeVars = Object.fromEntries(Object.entries(variableValues).filter(([k]) => !cursor.has(k)));
    const scopes = [...principal.scopes].sort().join(',');
    const key = [
      fieldName,
      target,
      principal.organizationId,
      principal.environment,
      scopes,
      params.operationName ?? '',
      params.query,
      JSON.stringify(shapeVars),
    ].join('\u0000');
    const group = groupOf(
      key,
      fieldName,
      principal,
      prepared,
      params.operationName,
      variableValues,
      params.variables ?? {},
    );
    group.members += 1;
    const stream = deps.sse.start(res, { protocol, errorFrame: errorFrameOf(correlationId, deps.log) });
    follow(stream, start as LeanStart, group, correlationId, fieldName === 'executionChanges');
    return true;
  }

  /**
   * Writes a group's frames to one subscriber until its stream ends: one object per subscriber, which is the sink
   * the feed's stream writes into (methods on the prototype, no closures kept for the stream's whole life).
   */
  class Follower implements StreamSink<Item> {
    private pending: Promise<unknown> | null = null;
    private left = false;
    /** A change stream's items of one batch (or replay stretch), written together at its flush. */
    private gathered: Frame[] | null;

    constructor(
      private readonly stream: SseStream,
      private readonly g: Group,
      private readonly correlationId: string,
      gathers: boolean,
    ) {
      this.gathered = gathers ? [] : null;
    }

    leave(): void {
      if (this.left) return;
      this.left = true;
      const { g } = this;
      g.members -= 1;
      if (g.members > 0) return;
      if (groups.get(g.key) === g) groups.delete(g.key);
      g.aborted.abort();
    }

    private deliver(frame: Rendered, frames: number): void {
      stats.written += frames;
      this.stream.write(typeof frame === 'function' ? frame(this.correlationId) : frame);
    }

    private write(frame: Frame, frames = 1): void {
      if (!this.pending && !(frame instanceof Promise)) {
        this.deliver(frame, frames);
        return;
      }
      const chained = (this.pending ?? Promise.resolve())
        .then(() => frame)
        .then(
          (f) => this.deliver(f, frames),
          () => this.stream.end(),
        )
        .finally(() => {
          if (this.pending === chained) this.pending = null;
        });
      this.pending = chained;
    }

    item(value: Item): boolean {
      const frame = frameOf(this.g, value);
      if (this.gathered) this.gathered.push(frame);
      else this.write(frame);
      return !this.stream.ended;
    }

    flush(): boolean {
      const frames = this.gathered;
      if (frames && frames.length > 0) {
        this.gathered = [];
        this.write(
          frames.length === 1 ? (frames[0] as Frame) : joinedOf(this.g, frames, this.correlationId),
          frames.length,
        );
      }
      return !this.stream.ended;
    }

    fail(error: VigilError): void {
      this.leave();
      if (this.pending) void this.pending.then(() => this.stream.fail(error));
      else this.stream.fail(error);
    }

    end(): void {
      this.leave();
      if (this.pending) void this.pending.then(() => this.stream.end());
      else this.stream.end();
    }

    /**
     * A replay (of events or of changes) waits for the consumer instead of running into the writer's bound; frames
     * still being executed are not yet in the socket: they count as unread too.
     */
    pressure(): Promise<void> | null {
      return this.pending ? this.pending.then(() => this.stream.pressure() ?? undefined) : this.stream.pressure();
    }

    /** The stream ended (the client went away, shutdown, backpressure): leave the group, stop the feed's stream. */
    ended(cancel: () => void): void {
      this.leave();
      cancel();
    }
  }

  function follow(stream: SseStream, start: LeanStart, g: Group, correlationId: string, gathers: boolean) {
    const follower = new Follower(stream, g, correlationId, gathers);
    if (stream.ended) {
      follower.leave();
      return;
    }
    const cancel = start(follower);
    stream.onEnd(() => follower.ended(cancel));
  }

  return { handle, stats };
}
