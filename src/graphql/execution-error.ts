import type { ExecutionErrorInfo } from '../domain/types.js';
import { builder } from './builder.js';

export const ExecutionErrorRef = builder.objectRef<ExecutionErrorInfo>('ExecutionError').implement({
  fields: (t) => ({
    code: t.exposeString('code'),
    message: t.exposeString('message'),
    step: t.string({ nullable: true, resolve: (e) => e.step ?? null }),
    details: t.field({ type: 'JSON', nullable: true, resolve: (e) => e.details ?? null }),
  }),
});
