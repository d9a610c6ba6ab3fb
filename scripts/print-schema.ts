/** Prints the GraphQL schema to schema.graphql (test/schema.test.ts fails when the committed file is stale). */
import { writeFileSync } from 'node:fs';
import { printSchemaFile } from '../src/graphql/print.js';

writeFileSync(new URL('../schema.graphql', import.meta.url), printSchemaFile());
console.log('wrote schema.graphql');
