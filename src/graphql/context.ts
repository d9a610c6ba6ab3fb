import type { Db } from '../db/client.js';
import type { Principal } from '../domain/access.js';
import type { DomainContext } from '../domain/context.js';
import type { ChangeFeed } from '../feed/feed.js';
import type { CancelSignal } from '../feed/wait.js';

/** What every resolver gets: the caller, the request's correlation id, and the services. */
export interface GraphQLContext {
  principal: Principal;
  correlationId: string;
  signal: CancelSignal | undefined;
  domain: DomainContext;
  feed: ChangeFeed;
  db: Db;
}
