import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  matchClient,
  hostMatches,
  parseHostPattern,
  canonicalAddress,
  isSameHost,
  DnsHostResolver,
  type HostResolver,
} from '../../src/export/match.js';
import { defaultExportOptions } from '../../src/export/exports-file.js';
import type { Peer } from '../../src/rpc/context.js';

const v4 = (address: string, port = 700): Peer => ({ address, port, family: 'IPv4' });
const v6 = (address: string, port = 700): Peer => ({ address, port, family: 'IPv6' });

/** A resolver with a fixed table that counts its calls. */
function fakeResolver(table: Record<string, string[]>): HostResolver & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async namesFor(a: string) {
      calls.push(a);
      return table[a] ?? [];
    },
  };
}
const none = fakeResolver({});

test('IPv4-mapped IPv6 and zone ids are normalised', () => {
  assert.deepEqual(canonicalAddress('::ffff:127.0.0.1'), { family: 4, bytes: Buffer.from([127, 0, 0, 1]) });
  assert.deepEqual(canonicalAddress('::FFFF:7f00:1'), { family: 4, bytes: Buffer.from([127, 0, 0, 1]) });
  assert.equal(canonicalAddress('fe80::1%eth0')?.family, 6);
  assert.equal(canonicalAddress('nonsense'), undefined);
});

test('same host: a loopback peer, or the very address the connection arrived on', () => {
  for (const [remote, local] of [
    ['127.0.0.1', '127.0.0.1'],
    ['127.3.4.5', '127.0.0.1'],
    ['::1', '::1'],
    ['::ffff:127.0.0.1', '::ffff:127.0.0.1'],
    ['10.0.0.7', '10.0.0.7'],
    ['::ffff:10.0.0.7', '10.0.0.7'],
    ['fe80::1%eth0', 'fe80::1'],
  ]) assert.equal(isSameHost(remote, local), true, `${remote} → ${local}`);
  for (const [remote, local] of [
    ['10.0.0.8', '10.0.0.7'],
    ['::2', '::1'],
    ['10.0.0.7', '::ffff:10.0.0.8'],
    ['nonsense', 'nonsense'],
    ['10.0.0.7', '?'],
  ]) assert.equal(isSameHost(remote, local), false, `${remote} → ${local}`);
});

test('exact IPv4 and IPv6 addresses', async () => {
  assert.equal(await hostMatches('10.1.2.3', v4('10.1.2.3'), none), true);
  assert.equal(await hostMatches('10.1.2.3', v4('10.1.2.4'), none), false);
  assert.equal(await hostMatches('127.0.0.1', v6('::ffff:127.0.0.1'), none), true);
  assert.equal(await hostMatches('::1', v6('::1'), none), true);
  assert.equal(await hostMatches('::1', v6('0:0:0:0:0:0:0:1'), none), true);
  assert.equal(await hostMatches('2001:db8::1', v6('2001:DB8:0::1'), none), true);
  assert.equal(await hostMatches('::1', v4('127.0.0.1'), none), false);
  assert.equal(await hostMatches('::ffff:10.0.0.1', v4('10.0.0.1'), none), true);
});

test('CIDR for v4 (prefix and netmask) and v6', async () => {
  assert.equal(await hostMatches('10.0.0.0/8', v4('10.255.1.1'), none), true);
  assert.equal(await hostMatches('10.0.0.0/8', v4('11.0.0.1'), none), false);
  assert.equal(await hostMatches('192.168.4.0/255.255.252.0', v4('192.168.7.255'), none), true);
  assert.equal(await hostMatches('192.168.4.0/255.255.252.0', v4('192.168.8.0'), none), false);
  assert.equal(await hostMatches('192.168.1.77/24', v4('192.168.1.1'), none), true); // host bits ignored
  assert.equal(await hostMatches('0.0.0.0/0', v6('::ffff:8.8.8.8'), none), true);
  assert.equal(await hostMatches('0.0.0.0/0', v6('2001:db8::1'), none), false);
  assert.equal(await hostMatches('2001:db8::/32', v6('2001:db8:ffff::1'), none), true);
  assert.equal(await hostMatches('2001:db8::/32', v6('2001:db9::1'), none), false);
  assert.equal(await hostMatches('2001:db8::/33', v6('2001:db8:8000::1'), none), false);
  assert.equal(await hostMatches('::ffff:10.0.0.0/104', v4('10.9.9.9'), none), true);
  assert.equal(await hostMatches('::/0', v6('fe80::1%lo'), none), true);
});

test('"*" matches everyone, without a name lookup', async () => {
  const r = fakeResolver({});
  assert.equal(await hostMatches('*', v4('203.0.113.9'), r), true);
  assert.equal(await hostMatches('*', v6('2001:db8::1'), r), true);
  assert.deepEqual(r.calls, []);
});

test('hostnames and wildcards via the resolver, case-insensitively', async () => {
  const r = fakeResolver({ '10.0.0.5': ['ws5.lab.example.com'], '2001:db8:0:0:0:0:0:7': ['v6.example.com'] });
  assert.equal(await hostMatches('ws5.lab.example.com', v4('10.0.0.5'), r), true);
  assert.equal(await hostMatches('WS5.Lab.Example.COM.', v4('10.0.0.5'), r), true);
  assert.equal(await hostMatches('*.example.com', v4('10.0.0.5'), r), true); // "*" spans dots, as in Linux
  assert.equal(await hostMatches('ws?.lab.example.com', v4('10.0.0.5'), r), true);
  assert.equal(await hostMatches('ws??.lab.example.com', v4('10.0.0.5'), r), false);
  assert.equal(await hostMatches('*.example.org', v4('10.0.0.5'), r), false);
  assert.equal(await hostMatches('ws5', v4('10.0.0.5'), r), false);
  assert.equal(await hostMatches('ws5.lab.example.com', v6('::ffff:10.0.0.5'), r), true);
  assert.equal(await hostMatches('v6.example.com', v6('2001:db8::7'), r), true);
  assert.equal(await hostMatches('ws5.lab.example.com', v4('10.0.0.6'), r), false);
  // Wildcard metacharacters other than * and ? are literal.
  assert.equal(await hostMatches('ws5.lab.example.com', v4('10.0.0.5'), fakeResolver({ '10.0.0.5': ['ws5xlabxexample.com'] })), false);
});

test('loopback (and unix sockets) match "localhost" without DNS', async () => {
  const r = fakeResolver({});
  assert.equal(await hostMatches('localhost', v4('127.0.0.1'), r), true);
  assert.equal(await hostMatches('localhost', v4('127.1.2.3'), r), true);
  assert.equal(await hostMatches('localhost', v6('::1'), r), true);
  assert.equal(await hostMatches('localhost', v6('::ffff:127.0.0.1'), r), true);
  assert.equal(await hostMatches('localhost', v4('10.0.0.1'), r), false);
  const unix: Peer = { address: '', port: 0, family: 'unix' };
  assert.equal(await hostMatches('localhost', unix, r), true);
  assert.equal(await hostMatches('127.0.0.1', unix, r), true);
  assert.equal(await hostMatches('::1', unix, r), true);
  assert.equal(await hostMatches('10.0.0.0/8', unix, r), false);
  // A unix peer never triggers a DNS lookup.
  assert.ok(!r.calls.includes(''));
});

test('first matching spec in file order wins; lookup only when needed, at most once', async () => {
  const o = defaultExportOptions();
  const clients = [
    { host: 'a.example.com', options: { ...o, readOnly: false } },
    { host: '*.example.com', options: { ...o, squash: 'all' as const } },
    { host: '10.0.0.0/8', options: { ...o, secure: false } },
  ];
  const r = fakeResolver({ '10.0.0.1': ['a.example.com'], '10.0.0.2': ['b.example.com'] });
  assert.equal((await matchClient(clients, v4('10.0.0.1'), r))?.host, 'a.example.com');
  assert.equal((await matchClient(clients, v4('10.0.0.2'), r))?.host, '*.example.com');
  assert.equal((await matchClient(clients, v4('10.0.0.3'), r))?.host, '10.0.0.0/8');
  assert.equal(await matchClient(clients, v4('192.0.2.1'), r), undefined);
  assert.deepEqual(r.calls, ['10.0.0.1', '10.0.0.2', '10.0.0.3', '192.0.2.1']);
  // Address spec first: no lookup at all.
  const r2 = fakeResolver({});
  assert.equal((await matchClient([...clients].reverse(), v4('10.0.0.1'), r2))?.host, '10.0.0.0/8');
  assert.deepEqual(r2.calls, []);
});

test('bad patterns are refused', () => {
  for (const h of ['', '@ng', 'gss/krb5', '10.0.0.0/33', '::/129', '10.0.0.0/255.0.255.0', 'a..b', 'a b', 'x/8', '-a', '[ab]']) {
    assert.throws(() => parseHostPattern(h), { code: 'EINVAL' }, h);
  }
});

test('DnsHostResolver: unknown address gives no names, quickly (timeout bounded)', async () => {
  const r = new DnsHostResolver({ timeoutMs: 300 });
  const t0 = Date.now();
  const names = await r.namesFor('192.0.2.123'); // TEST-NET-1: no PTR
  assert.ok(Array.isArray(names));
  assert.ok(Date.now() - t0 < 2000);
  // Cached: same promise result, instantly.
  const t1 = Date.now();
  assert.deepEqual(await r.namesFor('192.0.2.123'), names);
  assert.ok(Date.now() - t1 < 50);
  assert.deepEqual(await r.namesFor('not an address'), []);
});
