/**
 * A run's output (API.md §8): the `LOG` events that ride the execution's one event sequence. The dashboard reads them
 * with its other events on one subscription (`EventsWithLogs` in src/client/sdk/dashboard.ts), so one cursor
 * resumes status, progress and output together.
 */
import type { DashboardEvent, LogEvent } from './sdk/dashboard.js';

export type { LogEvent } from './sdk/dashboard.js';

/** The stream on which Vigil itself says that a run's output was cut at its cap (`VIGIL_LOG_LIMIT_BYTES`). */
export const VIGIL_STREAM = 'vigil';

export const isLog = (e: DashboardEvent): e is LogEvent => 'text' in e;
