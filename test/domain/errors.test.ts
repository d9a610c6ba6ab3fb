import { describe, expect, it } from 'vitest';
import { isConnectionFault, isKnownDriverFault } from '../../src/db/faults.js';
import { VigilError, vigilErrorOf } from '../../src/domain/errors.js';

/** An error shaped as postgres.js makes them: a code, and for server errors the SQLSTATE as `code`. */
const coded = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('database faults in the contract’s codes', () => {
  it.each([
    ['postgres.js: the connection closed', coded('CONNECTION_CLOSED')],
    ['postgres.js: the pool was ended', coded('CONNECTION_ENDED')],
    ['postgres.js: connecting timed out', coded('CONNECT_TIMEOUT')],
    ['the server refused the connection', coded('ECONNREFUSED')],
    ['the connection was reset', coded('ECONNRESET')],
    ['PostgreSQL 57P01: terminating connection due to administrator command', coded('57P01')],
    ['PostgreSQL 57P03: the database system is starting up', coded('57P03')],
    ['PostgreSQL 08006: connection failure', coded('08006')],
    ['PostgreSQL 53300: too many clients', coded('53300')],
    ['wrapped by drizzle as a cause', Object.assign(new Error('Failed query'), { cause: coded('CONNECTION_CLOSED') })],
    ['every address refused (AggregateError)', new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')])],
  ])('%s is SERVICE_UNAVAILABLE with Retry-After', (_, err) => {
    expect(isConnectionFault(err)).toBe(true);
    const mapped = vigilErrorOf(err);
    expect(mapped?.code).toBe('SERVICE_UNAVAILABLE');
    expect(mapped?.retryAfter).toBeGreaterThan(0);
  });

  it.each([
    ['a unique violation (23505)', coded('23505')],
    ['a division by zero (22012)', coded('22012')],
    ['a syntax error (42601)', coded('42601')],
    ['a plain error', new Error('boom')],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'code')")],
    ['nothing at all', undefined],
  ])('%s is not a connection fault (INTERNAL at the edges)', (_, err) => {
    expect(isConnectionFault(err)).toBe(false);
    expect(vigilErrorOf(err)).toBeNull();
  });

  it('keeps a VigilError as it is', () => {
    const err = new VigilError('EXECUTION_NOT_FOUND', 'Execution x not found');
    expect(vigilErrorOf(err)).toBe(err);
  });
});

describe('the one driver exception the process survives (porsager/postgres#1208)', () => {
  const driverStack = [
    "TypeError: Cannot read properties of null (reading 'write')",
    '    at Immediate.nextWrite (/app/node_modules/postgres/src/connection.js:255:22)',
    '    at process.processImmediate (node:internal/timers:483:21)',
  ].join('\n');
  const driverError = Object.assign(new TypeError("Cannot read properties of null (reading 'write')"), {
    stack: driverStack,
  });

  it('recognizes postgres.js writing to a closed connection from its timer', () => {
    expect(isKnownDriverFault(driverError)).toBe(true);
    // as vitest hands it over: a plain object with the same fields
    expect(isKnownDriverFault({ name: 'TypeError', message: driverError.message, stack: driverStack })).toBe(true);
  });

  it('recognizes the failure of postgres.js’s own array-type fetch on a new connection, whose promise it drops', () => {
    const typeFetch = `
      select b.oid, b.typarray
      from pg_catalog.pg_type a
      left join pg_catalog.pg_type b on b.oid = a.typelem
      where a.typcategory = 'A'
      group by b.oid, b.typarray
      order by b.oid
    `;
    // as postgres.js builds it: the statement as a non-enumerable property of the connection error
    const closed = Object.defineProperties(
      Object.assign(new Error('write CONNECTION_CLOSED 127.0.0.1:5432'), { code: 'CONNECTION_CLOSED' }),
      { query: { value: typeFetch, enumerable: false } },
    );
    expect(isKnownDriverFault(closed)).toBe(true);
    expect(
      isKnownDriverFault({ name: 'Error', message: closed.message, code: 'CONNECTION_CLOSED', query: typeFetch }),
    ).toBe(true);
    // the same fault on one of our statements is the caller's to handle, not ignored
    const ours = Object.defineProperties(
      Object.assign(new Error('write CONNECTION_CLOSED 127.0.0.1:5432'), { code: 'CONNECTION_CLOSED' }),
      { query: { value: 'select * from executions where id = $1', enumerable: false } },
    );
    expect(isKnownDriverFault(ours)).toBe(false);
  });

  it('lets every other exception through, ours and the driver’s', () => {
    const ours = new TypeError("Cannot read properties of null (reading 'write')"); // thrown from our code
    expect(isKnownDriverFault(ours)).toBe(false);
    const otherInDriver = Object.assign(new TypeError('x is not a function'), {
      stack: driverStack.replace("(reading 'write')", 'x is not a function'),
    });
    expect(isKnownDriverFault(otherInDriver)).toBe(false);
    expect(isKnownDriverFault(Object.assign(new RangeError(driverError.message), { stack: driverStack }))).toBe(false);
    expect(isKnownDriverFault(null)).toBe(false);
    expect(isKnownDriverFault('boom')).toBe(false);
  });
});
