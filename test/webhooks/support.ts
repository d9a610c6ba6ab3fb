import { type DbKind, ok, type StartOptions, startTestServer, type TestServer } from '../support/harness.js';

/** Test settings: receivers on loopback are allowed, retries are quick. */
export const FAST_RETRIES: Record<string, string> = {
  VIGIL_WEBHOOK_ALLOW_PRIVATE: '1',
  VIGIL_WEBHOOK_RETRY_BASE_MS: '100',
  VIGIL_WEBHOOK_RETRY_MAX_MS: '1000',
  VIGIL_WEBHOOK_TIMEOUT_MS: '2000',
};

export function startHookServer(kind: DbKind, options: StartOptions = {}): Promise<TestServer> {
  return startTestServer(kind, { ...options, env: { ...FAST_RETRIES, ...options.env } });
}

export const CREATE_WEBHOOK = `mutation($input: CreateWebhookInput!) {
  createWebhook(input: $input) { secret webhook { id url events enabled filter { workflowId status } } }
}`;

export async function createWebhook(
  s: TestServer,
  input: { url: string; events?: string[]; filter?: Record<string, unknown> },
  headers?: Record<string, string>,
): Promise<{ id: string; secret: string }> {
  const res = await s.gql<{ createWebhook: { secret: string; webhook: { id: string } } }>(
    CREATE_WEBHOOK,
    { input: { events: ['execution.terminal'], ...input } },
    headers,
  );
  const { secret, webhook } = ok(res).createWebhook;
  return { id: webhook.id, secret };
}

export const DELIVERIES = `query($id: ID!, $first: Int, $after: String) {
  webhookDeliveries(webhookId: $id, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id type executionId status attemptCount lastStatusCode lastError nextAttemptAt completedAt payload
      attempts { attempt statusCode success error responseExcerpt durationMs startedAt } }
  }
}`;

export interface DeliveryView {
  id: string;
  type: string;
  executionId: string;
  status: 'PENDING' | 'SUCCEEDED' | 'FAILED';
  attemptCount: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  completedAt: string | null;
  payload: { id: string; type: string; data: { execution: Record<string, unknown>; previousStatus: string } };
  attempts: {
    attempt: number;
    statusCode: number | null;
    success: boolean;
    error: string | null;
    responseExcerpt: string | null;
    durationMs: number;
    startedAt: string;
  }[];
}

export async function deliveries(s: TestServer, webhookId: string, headers?: Record<string, string>) {
  const res = await s.gql<{ webhookDeliveries: { nodes: DeliveryView[] } }>(
    DELIVERIES,
    { id: webhookId, first: 100 },
    headers,
  );
  return ok(res).webhookDeliveries.nodes;
}

/** Polls `read` until `done` holds (bounded). */
export async function eventually<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > until) throw new Error(`condition not met in ${timeoutMs} ms: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const COMPLETE = `mutation($id: ID!) { updateExecutionStatus(id: $id, status: COMPLETED) { success } }`;
