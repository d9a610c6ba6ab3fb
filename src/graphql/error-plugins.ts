import { handleStreamOrSingleExecutionResult, type Plugin } from '@envelop/core';
import type { ExecutionResult } from 'graphql';
import type { Plugin as YogaPlugin } from 'graphql-yoga';
import { type ErrorLogger, REQUEST_ERROR_HTTP, toClientError } from '../http/graphql-errors.js';
import type { GraphQLContext } from './context.js';

/** Maps a result's errors through the edge's one mapper (`src/http/graphql-errors.ts`); used by yoga's plugins. */
function mapErrors(result: ExecutionResult, correlationId: string, log: ErrorLogger, nullData = true): ExecutionResult {
  if (!result.errors?.length) return result;
  // No data at all: nothing ran (variables did not coerce), so its VALIDATION_FAILED errors are request errors.
  const nothingRan = !('data' in result);
  const errors = result.errors.map((e) => {
    const error = toClientError(e, correlationId, log);
    const ext = error.extensions as Record<string, unknown>;
    const status = (ext.http as { status?: number } | undefined)?.status;
    // Not the refusals that have their own status: access (401/403/422), yoga's BAD_REQUEST (batching, GET mutations)
    // and its OPERATION_RESOLUTION_FAILURE (an operationName the document does not hold, or not a string).
    const ownStatus = ext.graphqlCode === 'BAD_REQUEST' || ext.graphqlCode === 'OPERATION_RESOLUTION_FAILURE';
    if (nothingRan && ext.code === 'VALIDATION_FAILED' && !ownStatus && (status ?? 400) === 400)
      ext.http = REQUEST_ERROR_HTTP;
    return error;
  });
  // A `data` key (undefined, so it is not serialized: a request error has no data entry) makes graphql-sse
  // recognize an errors-only result (bad variables, a failed subscribe) as a result.
  return nullData && !('data' in result) ? { data: undefined, ...result, errors } : { ...result, errors };
}

/**
 * Yoga answers some invalid requests (validation errors) without running the execution hooks; this maps those
 * results too, so every error on /graphql has a contract code and the correlation id.
 */
export function useRequestErrors(log: ErrorLogger): YogaPlugin<Record<string, unknown>, { correlationId?: string }> {
  return {
    onResultProcess({ result, setResult, serverContext }) {
      if (Symbol.asyncIterator in Object(result)) return;
      const correlationId = serverContext.correlationId ?? '';
      const map = (r: ExecutionResult) => mapErrors(r, correlationId, log, false);
      setResult(Array.isArray(result) ? result.map(map) : map(result as ExecutionResult));
    },
  };
}

/**
 * Maps errors of every execution and subscription event, on every transport (yoga's SSE and graphql-sse included),
 * before yoga's own masking sees them, adding the request's correlation id.
 */
export function useClientErrors(log: ErrorLogger): Plugin<GraphQLContext> {
  const onDone = (correlationId: string) => (payload: Parameters<typeof handleStreamOrSingleExecutionResult>[0]) =>
    handleStreamOrSingleExecutionResult(payload, ({ result, setResult }) => {
      setResult(mapErrors(result, correlationId, log));
    });
  return {
    onExecute: ({ args }) => ({ onExecuteDone: onDone(args.contextValue.correlationId) }),
    onSubscribe: ({ args }) => ({
      onSubscribeResult: onDone(args.contextValue.correlationId),
      onSubscribeError: ({ error, setError }) => setError(toClientError(error, args.contextValue.correlationId, log)),
    }),
  };
}
