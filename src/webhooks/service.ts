import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { DomainContext } from '../domain/context.js';
import { VigilError } from '../domain/errors.js';
import type { ChangeSink } from '../domain/types.js';
import { type Resolver, systemResolver, vettingLookup } from './address.js';
import { type DispatcherLogger, type DispatcherOptions, WebhookDispatcher } from './dispatcher.js';
import type { WebhookSettings } from './manage.js';
import { webhookMetrics } from './metrics.js';
import { WebhookOutbox } from './outbox.js';
import { createPoster } from './post.js';

export interface WebhookConfig extends DispatcherOptions {
  allowPrivate: boolean;
  horizonMs: number;
  resolver?: Resolver;
}

export interface WebhookService {
  settings: WebhookSettings;
  dispatcher: WebhookDispatcher;
  stop(): Promise<void>;
}

/** A wake after a commit is worth a claim only shortly after the outbox wrote something (it may be that commit). */
const WAKE_WINDOW_MS = 2000;

const services = new WeakMap<DomainContext, WebhookService>();

/**
 * Installs webhooks on a domain context: the outbox hook joins `domain.hooks` (it writes inside the transaction of
 * every status change), and `domain.sink` is wrapped so that a commit which wrote deliveries wakes the dispatcher at
 * once. The dispatcher starts; `stop()` ends it before the database closes.
 */
export function installWebhooks(
  domain: DomainContext,
  config: WebhookConfig,
  log: DispatcherLogger,
  registry?: Registry,
): WebhookService {
  const resolver = config.resolver ?? systemResolver;
  const poster = createPoster({
    timeoutMs: config.timeoutMs,
    allowPrivate: config.allowPrivate,
    lookup: vettingLookup(config.allowPrivate, resolver),
  });
  let dispatcher: WebhookDispatcher | null = null;
  const observer = registry ? webhookMetrics(registry, domain.db, () => dispatcher?.inFlight ?? 0) : undefined;
  dispatcher = new WebhookDispatcher(domain.db, poster, config, log, observer);
  const d = dispatcher;

  let writtenAt = 0;
  domain.hooks.push(new WebhookOutbox(config.horizonMs, () => (writtenAt = Date.now())));
  const inner: ChangeSink = domain.sink;
  domain.sink = {
    changed(changes) {
      inner.changed(changes);
      // After this turn: the claim's query does not go out before what the commit wakes at once (waiters, streams).
      if (Date.now() - writtenAt < WAKE_WINDOW_MS) setImmediate(() => d.wake());
    },
  };

  const service: WebhookService = {
    settings: {
      allowPrivate: config.allowPrivate,
      horizonMs: config.horizonMs,
      resolver,
      now: domain.now,
      wake: () => d.wake(),
    },
    dispatcher: d,
    stop: () => d.stop(),
  };
  services.set(domain, service);
  d.start();
  return service;
}

/** The webhook service of a domain context, for the edges (GraphQL, REST). */
export function webhooksOf(domain: DomainContext): WebhookService {
  const service = services.get(domain);
  if (!service) throw new VigilError('INTERNAL', 'Webhooks are not installed on this server');
  return service;
}

/** The webhook settings of the server's configuration (src/config.ts). */
export function webhookConfigOf(config: Config): WebhookConfig {
  return {
    allowPrivate: config.VIGIL_WEBHOOK_ALLOW_PRIVATE === '1',
    horizonMs: config.VIGIL_WEBHOOK_HORIZON_HOURS * 3_600_000,
    timeoutMs: config.VIGIL_WEBHOOK_TIMEOUT_MS,
    retryBaseMs: config.VIGIL_WEBHOOK_RETRY_BASE_MS,
    retryMaxMs: config.VIGIL_WEBHOOK_RETRY_MAX_MS,
    concurrency: config.VIGIL_WEBHOOK_CONCURRENCY,
    perEndpoint: config.VIGIL_WEBHOOK_ENDPOINT_CONCURRENCY,
    pollMs: config.VIGIL_WEBHOOK_POLL_MS,
  };
}
