/**
 * A per-address share of a pool that anonymous peers can fill: worker connections (WsGateway)
 * and dashboard event streams (EventStreamHub) each give one address at most `perAddress` slots.
 *
 * IPv6 peers are grouped by /64, the block one subscriber is usually given, so a single host
 * cannot take a fresh share per address. IPv4-mapped IPv6 addresses count as their IPv4 address.
 */
import { isIPv6 } from 'node:net';

/** The key a peer's address is counted under: the IPv4 address, or the IPv6 /64 prefix. */
export function addressGroup(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] as string;
  if (!isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, as lower-case hex without leading zeros. */
function expandIPv6(address: string): string[] {
  const withoutZone = address.split('%')[0] as string;
  const [head = '', tail] = withoutZone.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((group) => (group.includes('.') ? group : (parseInt(group, 16) || 0).toString(16)));
}

export class PerIpQuota {
  private readonly held = new Map<string, number>();

  constructor(readonly perAddress: number) {}

  /** Takes a slot for `address` and returns its group; undefined (nothing taken) when the group is full. */
  tryAcquire(address: string | undefined): string | undefined {
    const group = addressGroup(address);
    const count = this.held.get(group) ?? 0;
    if (count >= this.perAddress) return undefined;
    this.held.set(group, count + 1);
    return group;
  }

  /** Gives back a slot taken by tryAcquire (pass the group it returned). */
  release(group: string): void {
    const count = this.held.get(group) ?? 0;
    if (count <= 1) this.held.delete(group);
    else this.held.set(group, count - 1);
  }

  /** Slots held by `address`'s group. */
  count(address: string | undefined): number {
    return this.held.get(addressGroup(address)) ?? 0;
  }
}
