import { type RetentionInfo, retentionInfo } from '../domain/retention.js';
import { builder } from './builder.js';

const RetentionRef = builder.objectRef<RetentionInfo>('Retention').implement({
  description: 'How long this server keeps finished executions (API.md §10)',
  fields: (t) => ({
    days: t.exposeFloat('days', {
      description: 'VIGIL_RETENTION_DAYS of the server that answered; 0 keeps everything',
    }),
    oldestExecutionAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: "When the caller's oldest execution still kept was created; null when there is none",
      resolve: (r) => r.oldestExecutionAt,
    }),
  }),
});

builder.queryField('retention', (t) =>
  t.field({
    type: RetentionRef,
    description: 'The retention period and the oldest execution kept (for dashboards)',
    resolve: (_r, _a, ctx) => retentionInfo(ctx.domain, ctx.principal),
  }),
);
