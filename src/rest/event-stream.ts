import { z } from 'zod';
import type { RestApp } from './context.js';

/**
 * One kind of Server-Sent Event in the OpenAPI document. OpenAPI 3.1 has no word for a stream's items (3.2 adds
 * `itemSchema`), so the `text/event-stream` schema is 3.2's item shape: `{event, id, data}`, with `data` the JSON text
 * its `contentSchema` (JSON Schema 2020-12) describes, by name, so a reader or a generator finds each event's fields.
 */
export interface SseEventDoc {
  events: readonly [string, ...string[]];
  /** The component that describes `data` once parsed. */
  dataName: string;
  data: z.ZodType;
  /** Whether the event carries an `id:` line (a resume point). */
  id: boolean;
}

function itemSchema(e: SseEventDoc) {
  const data = z.string().meta({
    description: `JSON: ${e.dataName}`,
    contentMediaType: 'application/json',
    contentSchema: { $ref: `#/components/schemas/${e.dataName}` },
  });
  return e.id
    ? z.object({
        event: z.enum(e.events),
        id: z.string().meta({ description: 'Resume after it with Last-Event-ID' }),
        data,
      })
    : z.object({ event: z.enum(e.events), data });
}

/** The `content` of a stream's 200 response; `registerSseData` must register the same events' data. */
export function sseContent(description: string, events: readonly SseEventDoc[]) {
  const [first, ...rest] = events.map(itemSchema);
  const schema = rest.length && first ? z.union([first, ...rest]) : (first ?? z.never());
  return { 'text/event-stream': { schema: schema.meta({ description }) } };
}

/** Puts each event's data schema in the document's components, where the events' `contentSchema` points. */
export function registerSseData(app: RestApp, events: readonly SseEventDoc[]): void {
  for (const e of events) app.openAPIRegistry.register(e.dataName, e.data);
}
