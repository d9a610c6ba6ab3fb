import type { RouteConfig } from '@hono/zod-openapi';
import { z } from 'zod';
import { ERROR_CODES } from '../domain/errors.js';
import type { RestApp } from './context.js';

/** FastAPI's validation item (the seeds' `ValidationError`). */
const ValidationErrorSchema = z
  .object({
    loc: z
      .array(z.union([z.string(), z.int()]))
      .meta({ description: 'Where: "body" | "query" | "path" | "header", then the field' }),
    msg: z.string(),
    type: z.string(),
  })
  .meta({ id: 'ValidationError' });

const errorFields = {
  error_code: z.enum(ERROR_CODES).meta({ description: 'The same code GraphQL puts in extensions.code' }),
  correlation_id: z.string().meta({ description: 'Also in the X-Correlation-Id response header' }),
  timestamp: z.iso.datetime().meta({ description: 'ISO 8601, UTC' }),
};

const HTTPValidationErrorSchema = z
  .object({ detail: z.array(ValidationErrorSchema), ...errorFields })
  .meta({ id: 'HTTPValidationError', description: 'A 422: every invalid field, in the shape FastAPI gives' });

export const ErrorResponseSchema = z
  .object({ detail: z.string().meta({ description: 'What went wrong, for a person' }), ...errorFields })
  .meta({ id: 'ErrorResponse', description: 'Every error but a 422 (API.md §4)' });

const ERROR_DESCRIPTIONS = {
  400: 'INVALID_STATUS_TRANSITION: the state machine refuses the change',
  401: 'UNAUTHORIZED: no API key, or an unknown or revoked one',
  403: 'FORBIDDEN: the key lacks the scope or the environment',
  404: 'EXECUTION_NOT_FOUND: absent, or in another organization or environment',
  409: 'IDEMPOTENCY_CONFLICT: the idempotencyKey was used for a different request',
  413: 'PAYLOAD_TOO_LARGE: the body is over the limit',
  422: 'VALIDATION_FAILED: a bad path, query, header or body value',
  429: 'RATE_LIMITED: retry after the Retry-After header',
  503: 'SERVICE_UNAVAILABLE: shutting down or at capacity; retry after the Retry-After header',
} as const;
type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS;

export function jsonContent<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/** The error responses of a route: the given statuses plus what authentication may answer on any route. */
export function errorResponses(...statuses: ErrorStatus[]) {
  const all = [...new Set<ErrorStatus>([401, 403, ...statuses, 429])].sort();
  return Object.fromEntries(
    all.map((s) => [
      s,
      jsonContent(s === 422 ? HTTPValidationErrorSchema : ErrorResponseSchema, ERROR_DESCRIPTIONS[s]),
    ]),
  );
}

/** API keys (API.md §5): a bearer key, or none with auth off (the default on loopback). */
export const SECURITY: Record<string, string[]>[] = [{ bearerAuth: [] }, {}];

export function registerSecuritySchemes(app: RestApp): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key from `npx vigil keys create` (not needed while VIGIL_AUTH=off)',
  });
}

/**
 * `X-Environment` (API.md §5) is read by the authentication in front of every route, not by a route, so the
 * document adds it to every authenticated operation (`withEnvironment`) rather than each route validating it.
 */
export const ENVIRONMENT_PARAMETER = {
  name: 'X-Environment',
  in: 'header',
  required: false,
  description:
    'The environment to act in. Optional with auth off (default `test`) and for a key with one environment; ' +
    'required for a key with both. One the key may not use is 403.',
  schema: { type: 'string', enum: ['test', 'live'] },
} as const;

/** A query parameter holding a number, validated by a schema written for numbers (a domain schema, typically). */
export function queryNumber<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v), schema);
}

/**
 * Registers `route` in the OpenAPI document with its body, and returns it without the body for `app.openapi`, so
 * that zod-openapi validates path, query and headers while `readJson` reads the body (FastAPI's body rules, see
 * body.ts) with the same schema.
 */
export function bodyReadByHandler<R extends RouteConfig>(app: RestApp, route: R) {
  app.openAPIRegistry.registerPath(route);
  const { body: _documented, ...request } = route.request ?? {};
  return { ...route, request, hide: true } as Omit<R, 'request'> & { request: Omit<NonNullable<R['request']>, 'body'> };
}
