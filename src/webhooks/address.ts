import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';

/**
 * The SSRF guard of API.md §7. Addresses fall in three classes: public (always allowed), private (loopback,
 * RFC 1918, link-local, CGNAT, documentation ranges: allowed only with VIGIL_WEBHOOK_ALLOW_PRIVATE=1) and never
 * (unspecified, multicast, reserved, and the cloud metadata endpoints, which no receiver legitimately is).
 */
export type AddressClass = 'public' | 'private' | 'never';

interface Range {
  bits: bigint;
  prefix: number;
  why: string;
  cls: Exclude<AddressClass, 'public'>;
}

const V4: [string, number, string, Range['cls']][] = [
  ['169.254.169.254', 32, 'the cloud metadata endpoint', 'never'],
  ['169.254.170.2', 32, 'the container metadata endpoint', 'never'],
  ['100.100.100.200', 32, 'a cloud metadata endpoint', 'never'],
  ['0.0.0.0', 8, 'an unspecified address', 'never'],
  ['224.0.0.0', 4, 'a multicast address', 'never'],
  ['240.0.0.0', 4, 'a reserved address', 'never'],
  ['127.0.0.0', 8, 'a loopback address', 'private'],
  ['10.0.0.0', 8, 'a private address', 'private'],
  ['172.16.0.0', 12, 'a private address', 'private'],
  ['192.168.0.0', 16, 'a private address', 'private'],
  ['169.254.0.0', 16, 'a link-local address', 'private'],
  ['100.64.0.0', 10, 'a shared (CGNAT) address', 'private'],
  ['192.0.0.0', 24, 'an IETF protocol address', 'private'],
  ['192.0.2.0', 24, 'a documentation address', 'private'],
  ['198.18.0.0', 15, 'a benchmarking address', 'private'],
  ['198.51.100.0', 24, 'a documentation address', 'private'],
  ['203.0.113.0', 24, 'a documentation address', 'private'],
];
const V6: [string, number, string, Range['cls']][] = [
  ['fd00:ec2::254', 128, 'the cloud metadata endpoint', 'never'],
  ['::', 128, 'an unspecified address', 'never'],
  ['ff00::', 8, 'a multicast address', 'never'],
  ['::1', 128, 'a loopback address', 'private'],
  ['fc00::', 7, 'a unique-local (private) address', 'private'],
  ['fe80::', 10, 'a link-local address', 'private'],
  ['2001:db8::', 32, 'a documentation address', 'private'],
  ['100::', 64, 'a discard address', 'private'],
];

function v4Bits(address: string): bigint {
  return address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function v6Bits(address: string): bigint {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  // A trailing dotted quad (::ffff:1.2.3.4) becomes two hextets.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const v4 = v4Bits(dotted[1]);
    text = `${text.slice(0, dotted.index)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g || '0', 16)), 0n);
}

const compile = (list: typeof V4, toBits: (a: string) => bigint, width: number): Range[] =>
  list.map(([base, prefix, why, cls]) => ({ bits: toBits(base) >> BigInt(width - prefix), prefix, why, cls }));
const V4_RANGES = compile(V4, v4Bits, 32);
const V6_RANGES = compile(V6, v6Bits, 128);

function match(bits: bigint, width: number, ranges: Range[]): { cls: AddressClass; why: string } {
  for (const r of ranges) if (bits >> BigInt(width - r.prefix) === r.bits) return { cls: r.cls, why: r.why };
  return { cls: 'public', why: 'a public address' };
}

/** The class of an IP address, with a reason for people. IPv4 embedded in IPv6 (mapped, NAT64, 6to4) counts as IPv4. */
export function classifyAddress(address: string): { cls: AddressClass; why: string } {
  const family = isIP(address);
  if (family === 4) return match(v4Bits(address), 32, V4_RANGES);
  if (family !== 6) return { cls: 'never', why: 'not an IP address' };
  const bits = v6Bits(address);
  const low32 = bits & 0xffffffffn;
  if (bits >> 32n === 0xffffn || (bits >> 32n === 0n && bits > 1n)) return match(low32, 32, V4_RANGES); // mapped, compatible
  if (bits >> 32n === 0x64ff9b0000000000000000n) return match(low32, 32, V4_RANGES); // NAT64
  if (bits >> 112n === 0x2002n) return match((bits >> 80n) & 0xffffffffn, 32, V4_RANGES); // 6to4
  return match(bits, 128, V6_RANGES);
}

/** Why a connection to `address` is refused, or null when it is allowed. */
export function refusalOf(address: string, allowPrivate: boolean): string | null {
  const { cls, why } = classifyAddress(address);
  if (cls === 'public' || (cls === 'private' && allowPrivate)) return null;
  return `${address} is ${why}${cls === 'private' ? ' (set VIGIL_WEBHOOK_ALLOW_PRIVATE=1 to allow it)' : ''}`;
}

export class RefusedAddressError extends Error {
  readonly code = 'EVIGILREFUSED';
}

/** The host of a URL as a resolver or isIP expects it (IPv6 literals without brackets). */
export function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

export type Resolver = (host: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) =>
    dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))),
  );

/**
 * Every address the URL's host stands for, each vetted: throws RefusedAddressError naming the first refused one.
 * A host that resolves to a public and a private address is refused (DNS rebinding could pick either).
 */
export async function vetUrl(url: URL, allowPrivate: boolean, resolver: Resolver = systemResolver): Promise<string[]> {
  const host = hostOf(url);
  const addresses = isIP(host) ? [host] : (await resolver(host)).map((a) => a.address);
  if (addresses.length === 0) throw new Error(`${host} resolves to no address`);
  for (const address of addresses) {
    const refusal = refusalOf(address, allowPrivate);
    if (refusal) throw new RefusedAddressError(host === address ? refusal : `${host} resolves to ${refusal}`);
  }
  return addresses;
}

/**
 * A `lookup` for node:http/https that vets every address it hands the socket, so the address connected to is one
 * that was checked (no time-of-check/time-of-use gap with a second DNS answer). IP literals never reach a lookup:
 * the poster vets them itself.
 */
export function vettingLookup(allowPrivate: boolean, resolver: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    resolver(hostname).then(
      (found) => {
        const family = options.family === 4 || options.family === 6 ? options.family : 0;
        const addresses = family ? found.filter((a) => a.family === family) : found;
        for (const a of addresses) {
          const refusal = refusalOf(a.address, allowPrivate);
          if (refusal) return callback(new RefusedAddressError(`${hostname} resolves to ${refusal}`), '', 0);
        }
        const first = addresses[0];
        if (!first) return callback(new Error(`${hostname} resolves to no address`), '', 0);
        if (options.all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
        else callback(null, first.address, first.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}
