import './scalars.js';
import './enums.js';
import './inputs.js';
import './execution-error.js';
import './execution.js';
import './events.js';
import './logs.js';
import './mutations.js';
import './overview.js';
import './wait-many.js';
import './viewer.js';
import './webhooks.js';
import './changes.js';
import './retention.js';
import { builder } from './builder.js';

export const schema = builder.toSchema({ sortSchema: false });
