import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { inject } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/client.js';
import { loadCompiler } from '../../src/graphql/documents.js';
import { createLogger } from '../../src/log.js';
import { type ServerOptions, startServer, type VigilServer } from '../../src/server.js';

export type DbKind = 'pglite' | 'postgres';
/** Every scenario runs on both databases. */
export const DB_KINDS: DbKind[] = ['pglite', 'postgres'];

export interface GqlResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  data: T | null | undefined;
  errors: { message: string; path?: string[]; extensions?: Record<string, unknown> }[] | undefined;
}

export interface TestServer extends VigilServer {
  kind: DbKind;
  databaseUrl: string | undefined;
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<GqlResponse<T>>;
}

let counter = 0;

/** A fresh database on the run's PostgreSQL, so test files never see each other's rows. */
export async function newDatabaseUrl(): Promise<string> {
  const admin = postgres(inject('pgUrl'), { max: 1, onnotice: () => {} });
  const name = `t_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(inject('pgUrl'));
  url.pathname = `/${name}`;
  return url.toString();
}

export interface StartOptions extends ServerOptions {
  env?: Record<string, string>;
  /** Share a PostgreSQL database with another server (several instances as one). */
  databaseUrl?: string;
}

/** A Vigil server on 127.0.0.1, port 0, on a fresh database of the given kind. */
export async function startTestServer(kind: DbKind, options: StartOptions = {}): Promise<TestServer> {
  const log = options.log ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  let databaseUrl: string | undefined;
  const env: Record<string, string> = { PORT: '0', HOST: '127.0.0.1', ...options.env };
  let database = options.database;
  if (kind === 'postgres') {
    databaseUrl = options.databaseUrl ?? (await newDatabaseUrl());
    env.DATABASE_URL = databaseUrl;
  } else if (!database) {
    database = await openDatabase({ loadDataDir: new Blob([readFileSync(inject('pgliteTemplate'))]) });
  }
  const server = await startServer(loadConfig(env), { ...options, log, database });
  // As a server that has answered once has it: no test pays graphql-jit's one-time load (under vitest's transform,
  // long enough to hold up a heartbeat) on its first request.
  await loadCompiler();
  const gql = async <T>(query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: T | null; errors?: GqlResponse<T>['errors'] };
    return { status: res.status, headers: res.headers, data: body.data, errors: body.errors };
  };
  return Object.assign(server, { kind, databaseUrl, gql });
}

/** Throws with the GraphQL errors when there are any, else returns data. */
export function ok<T>(res: GqlResponse<T>): T {
  if (res.errors?.length || !res.data) throw new Error(`GraphQL errors: ${JSON.stringify(res.errors)}`);
  return res.data;
}

export function codeOf(res: GqlResponse<unknown>): unknown {
  return res.errors?.[0]?.extensions?.code;
}

export const CREATE = `mutation($input: CreateExecutionInput!) {
  createExecution(input: $input) { id status workflowId lastSequence createdAt }
}`;

export async function createExecution(
  s: TestServer,
  input: Record<string, unknown> = {},
  headers?: Record<string, string>,
) {
  const res = await s.gql<{ createExecution: { id: string; status: string; lastSequence: number; createdAt: string } }>(
    CREATE,
    { input: { workflowId: 'wf-test', ...input } },
    headers,
  );
  return ok(res).createExecution;
}

export const RECORD = `mutation($id: ID!, $events: [ExecutionEventInput!]!) {
  recordExecutionEvents(executionId: $id, events: $events) {
    events { sequence type }
    execution { id status lastSequence stats { totalMessages completedMessages failedMessages inProgressMessages successRate } }
  }
}`;

export async function record(s: TestServer, id: string, events: unknown[], headers?: Record<string, string>) {
  return s.gql<{
    recordExecutionEvents: {
      events: { sequence: number; type: string }[];
      execution: { id: string; status: string; lastSequence: number; stats: Record<string, number> };
    };
  }>(RECORD, { id, events }, headers);
}

export const UPDATE_STATUS = `mutation($id: ID!, $status: ExecutionStatusTarget!, $errorInfo: JSON) {
  updateExecutionStatus(id: $id, status: $status, errorInfo: $errorInfo) {
    success previousStatus currentStatus message execution { status error { code message details } completedAt }
  }
}`;
