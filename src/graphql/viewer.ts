import type { Principal } from '../domain/access.js';
import { builder } from './builder.js';
import { EnvironmentEnum } from './enums.js';

/** Who the caller is, so a UI can show what the key may do (e.g. admin actions only to admin keys). */
const ViewerRef = builder.objectRef<Principal>('Viewer').implement({
  fields: (t) => ({
    organizationId: t.exposeString('organizationId'),
    environment: t.field({ type: EnvironmentEnum, resolve: (p) => p.environment }),
    scopes: t.stringList({ resolve: (p) => [...p.scopes].sort() }),
    authenticated: t.boolean({
      description: 'False when the server runs with auth off',
      resolve: (p) => p.keyId !== null,
    }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: ViewerRef,
    description: 'The caller: organization, environment and scopes',
    resolve: (_r, _a, ctx) => ctx.principal,
  }),
);
