import { describe, expect, it } from 'vitest';
import { classifyAddress, refusalOf, vetUrl } from '../../src/webhooks/address.js';
import { eventTypeFor, WEBHOOK_EVENT_TYPES } from '../../src/webhooks/inputs.js';
import { retryDelayMs, worstCaseSchedule } from '../../src/webhooks/schedule.js';
import { signatureHeader, verifySignature } from '../../src/webhooks/signature.js';

describe('Vigil-Signature', () => {
  const secret = 'whsec_test';
  const body = '{"id":"d1","type":"execution.terminal"}';
  const now = 1_800_000_000;

  it('verifies a signature made over the raw body', () => {
    expect(verifySignature(secret, signatureHeader(secret, body, now), body, { nowSeconds: now })).toBe(true);
  });

  it('fails for a tampered body, a wrong secret, a stale or missing timestamp', () => {
    const header = signatureHeader(secret, body, now);
    expect(verifySignature(secret, header, body.replace('d1', 'd2'), { nowSeconds: now })).toBe(false);
    expect(verifySignature('whsec_other', header, body, { nowSeconds: now })).toBe(false);
    expect(verifySignature(secret, header, body, { nowSeconds: now + 301 })).toBe(false);
    expect(verifySignature(secret, header.replace(/^t=\d+,/, ''), body, { nowSeconds: now })).toBe(false);
    expect(verifySignature(secret, `t=${now + 1},${header.split(',')[1]}`, body, { nowSeconds: now })).toBe(false);
  });

  it('has the documented form t=<unix seconds>,v1=<64 hex digits>', () => {
    expect(signatureHeader(secret, body, now)).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
  });
});

describe('SSRF address classes', () => {
  it.each([
    ['127.0.0.1', 'private'],
    ['127.255.0.9', 'private'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['::1', 'private'],
    ['fe80::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['::ffff:127.0.0.1', 'private'],
    ['::ffff:7f00:1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['64:ff9b::a00:1', 'private'],
    ['2002:c0a8:0101::1', 'private'],
    ['169.254.169.254', 'never'],
    ['::ffff:169.254.169.254', 'never'],
    ['fd00:ec2::254', 'never'],
    ['0.0.0.0', 'never'],
    ['::', 'never'],
    ['224.0.0.1', 'never'],
    ['255.255.255.255', 'never'],
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['2606:4700::1111', 'public'],
    ['::ffff:8.8.8.8', 'public'],
  ])('%s is %s', (address, cls) => {
    expect(classifyAddress(address).cls).toBe(cls);
  });

  it('allows private targets only when the operator does, and the metadata endpoint never', () => {
    expect(refusalOf('127.0.0.1', false)).toContain('loopback');
    expect(refusalOf('127.0.0.1', true)).toBeNull();
    expect(refusalOf('169.254.169.254', true)).toContain('metadata');
    expect(refusalOf('8.8.8.8', false)).toBeNull();
  });

  it('vets every address a name resolves to: one private address refuses the name', async () => {
    const resolver = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.7', family: 4 },
    ];
    await expect(vetUrl(new URL('https://mixed.example/'), false, resolver)).rejects.toThrow(/10\.0\.0\.7/);
    await expect(vetUrl(new URL('https://mixed.example/'), true, resolver)).resolves.toHaveLength(2);
    await expect(vetUrl(new URL('http://[::1]:8080/'), false, resolver)).rejects.toThrow(/loopback/);
  });
});

describe('retry schedule', () => {
  it('doubles from the base up to the cap, jittered within [d/2, d]', () => {
    expect(retryDelayMs(1, 1000, 60_000, () => 0)).toBe(500);
    expect(retryDelayMs(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(retryDelayMs(4, 1000, 60_000, () => 1)).toBe(8000);
    expect(retryDelayMs(30, 1000, 60_000, () => 1)).toBe(60_000);
    for (let i = 0; i < 100; i++) {
      const d = retryDelayMs(3, 1000, 60_000);
      expect(d).toBeGreaterThanOrEqual(2000);
      expect(d).toBeLessThanOrEqual(4000);
    }
  });

  it('with the production defaults (10 s base, 1 h cap, 24 h horizon) retries about 30 times over a day', () => {
    const at = worstCaseSchedule(10_000, 3_600_000, 24 * 3_600_000);
    const minutes = at.map((ms) => Math.round(ms / 60_000));
    console.log(
      `production retry schedule (worst-case jitter), minutes after the first attempt: ${minutes.join(', ')}`,
    );
    expect(at.length).toBeGreaterThan(25);
    expect(at.length).toBeLessThan(40);
    expect(at.at(-1)).toBeLessThanOrEqual(24 * 3_600_000);
  });
});

describe('event types', () => {
  it('delivers a change once per endpoint, as the most specific type it subscribed to', () => {
    const all = [...WEBHOOK_EVENT_TYPES];
    expect(eventTypeFor(all, 'COMPLETED')).toBe('execution.terminal');
    expect(eventTypeFor(all, 'INTERRUPTED')).toBe('execution.interrupted');
    expect(eventTypeFor(all, 'RUNNING')).toBe('execution.status_changed');
    expect(eventTypeFor(['execution.status_changed'], 'FAILED')).toBe('execution.status_changed');
    expect(eventTypeFor(['execution.terminal'], 'RUNNING')).toBeNull();
    expect(eventTypeFor(['execution.interrupted'], 'TIMED_OUT')).toBeNull();
  });
});
