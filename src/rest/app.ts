import type { IncomingMessage, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { OpenAPIHono } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import { VigilError } from '../domain/errors.js';
import { issuesOf } from '../domain/inputs.js';
import { registerChanges } from './changes.js';
import type { RestApp, RestDeps, RestEnv } from './context.js';
import { registerDocs } from './docs.js';
import { errorResponse, methodNotAllowed } from './errors.js';
import { registerIngest } from './ingest.js';
import { registerList } from './list.js';
import { registerLogs } from './logs.js';
import { allowedMethods } from './methods.js';
import { registerPin } from './pin.js';
import { registerSecuritySchemes } from './schemas.js';
import { registerSeed000 } from './seed000-wait.js';
import { registerSeed001 } from './seed001-workflow-wait.js';
import { registerSeed002 } from './seed002-events.js';
import { registerSeed003 } from './seed003-status.js';
import { registerSeed004 } from './seed004-execution.js';
import { registerWaitMany } from './wait-many.js';
import { registerWebhooks } from './webhooks.js';

/** FastAPI's `loc` root for each place zod-openapi validates. */
const LOC_ROOT: Record<string, string> = { param: 'path', query: 'query', header: 'header', json: 'body' };

/** The paths the REST edge answers; server.ts routes them here. */
export function isRestPath(path: string): boolean {
  return path.startsWith('/api/') || path.startsWith('/workflows/') || path === '/openapi.json' || path === '/docs';
}

export interface RestEdge {
  app: RestApp;
  /** Serves one request; the HTTP layer has already set X-Correlation-Id to `correlationId`. */
  handle(req: IncomingMessage, res: ServerResponse, correlationId: string): void;
}

/**
 * The REST edge (API.md §3): the seed adapters and the ingest endpoints on Hono with @hono/zod-openapi, so the
 * schemas that validate requests are the ones the OpenAPI document is generated from.
 */
export function createRest(deps: RestDeps): RestEdge {
  const app: RestApp = new OpenAPIHono<RestEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const issues = issuesOf(result.error, [LOC_ROOT[result.target] ?? result.target]);
        throw new VigilError('VALIDATION_FAILED', issues[0]?.msg ?? 'Invalid request', { issues });
      }
    },
  });
  app.onError((err, c) => errorResponse(err, c.env.correlationId, deps.log));
  // Every route is registered below, before the first request asks.
  let allowed: (path: string) => string[] = () => [];
  app.notFound((c) => {
    const allow = allowed(c.req.path);
    if (allow.length) return methodNotAllowed(c.req.method, allow, c.env.correlationId, deps.log);
    return errorResponse(new VigilError('NOT_FOUND', 'Not Found'), c.env.correlationId, deps.log);
  });
  const authenticate = createMiddleware<RestEnv>(async (c, next) => {
    c.set('principal', await deps.auth.authenticate((name) => c.req.header(name), c.env.remoteAddress));
    await next();
  });
  app.use('/api/*', authenticate);
  app.use('/workflows/*', authenticate);

  registerSecuritySchemes(app);
  registerIngest(app, deps);
  registerList(app, deps);
  registerChanges(app, deps);
  registerLogs(app, deps);
  registerPin(app, deps);
  registerWaitMany(app, deps);
  registerSeed000(app, deps);
  registerSeed001(app, deps);
  registerSeed002(app, deps);
  registerSeed003(app, deps);
  registerSeed004(app, deps);
  registerWebhooks(app, deps);
  registerDocs(app);
  allowed = allowedMethods(app.routes);

  const correlationIds = new WeakMap<IncomingMessage, string>();
  const listener = getRequestListener(
    (request, env) => {
      const incoming = env.incoming as IncomingMessage;
      return app.fetch(request, {
        correlationId: correlationIds.get(incoming) ?? '',
        remoteAddress: incoming.socket.remoteAddress ?? 'unknown',
        incoming,
        outgoing: env.outgoing as ServerResponse,
        limits: deps.domain.limits,
      });
    },
    { overrideGlobalObjects: false },
  );
  return {
    app,
    handle(req, res, correlationId) {
      correlationIds.set(req, correlationId);
      void listener(req, res);
    },
  };
}
