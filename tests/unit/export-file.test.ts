import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseExports,
  parseExportsWithWarnings,
  formatExports,
  ExportsSyntaxError,
  defaultExportOptions,
  type ExportsWarning,
} from '../../src/export/exports-file.js';

const D = defaultExportOptions();

function syntaxError(text: string, line: number, re?: RegExp): void {
  assert.throws(
    () => parseExports(text, 'test-exports'),
    (e: unknown) => {
      assert.ok(e instanceof ExportsSyntaxError, String(e));
      assert.equal(e.code, 'EXPORTS_SYNTAX');
      assert.equal(e.line, line, e.message);
      assert.match(e.message, /^test-exports:\d+: /);
      if (re) assert.match(e.message, re);
      return true;
    },
  );
}

test('Linux defaults when no options are given', () => {
  assert.deepEqual(D, { readOnly: true, secure: true, squash: 'root', anonuid: 65534, anongid: 65534, sync: true });
  const [e] = parseExports('/srv host1\n');
  assert.deepEqual(e, { path: '/srv', clients: [{ host: 'host1', options: D }] });
});

test('options per host, later options override earlier ones', () => {
  const es = parseExports('/srv/data 10.0.0.0/8(rw,no_root_squash,insecure,async,anonuid=1000,anongid=100) *(ro,rw,ro)');
  assert.equal(es.length, 1);
  const [a, b] = es[0]!.clients;
  assert.deepEqual(a, {
    host: '10.0.0.0/8',
    options: { readOnly: false, secure: false, squash: 'none', anonuid: 1000, anongid: 100, sync: false },
  });
  assert.deepEqual(b, { host: '*', options: D });
});

test('squash flags combine like Linux: all_squash wins over no_root_squash', () => {
  const [e] = parseExports('/a h1(all_squash) h2(no_root_squash,all_squash) h3(all_squash,no_all_squash) h4(no_root_squash)');
  assert.deepEqual(
    e!.clients.map((c) => c.options.squash),
    ['all', 'all', 'root', 'none'],
  );
});

test('"-opts" default list applies to the hosts that follow, which may override it', () => {
  const [e] = parseExports('/srv -rw,insecure a b(ro) c(secure)');
  assert.deepEqual(
    e!.clients.map((c) => [c.host, c.options.readOnly, c.options.secure]),
    [
      ['a', false, false],
      ['b', true, false],
      ['c', false, true],
    ],
  );
});

test('a path with no hosts is exported to everyone with defaults (and a warning)', () => {
  const r = parseExportsWithWarnings('/pub\n/pub2 -rw\n');
  assert.deepEqual(r.entries, [
    { path: '/pub', clients: [{ host: '*', options: D }] },
    { path: '/pub2', clients: [{ host: '*', options: { ...D, readOnly: false } }] },
  ]);
  assert.equal(r.warnings.length, 2);
  assert.deepEqual(r.warnings.map((w) => w.line), [1, 2]);
});

test('comments, blank lines, quoting, continuation, octal escapes', () => {
  const text = [
    '# full-line comment',
    '',
    '   "/srv/my data"  h1(rw)   # trailing comment',
    '/srv/long a(rw) \\',
    '          b(ro) \\',
    '',
    '/srv/oct\\040dir h',
    '/srv/a#b h',
  ].join('\n');
  const es = parseExports(text);
  assert.deepEqual(
    es.map((e) => [e.path, e.clients.map((c) => c.host)]),
    [
      ['/srv/my data', ['h1']],
      ['/srv/long', ['a', 'b']],
      ['/srv/oct dir', ['h']],
      ['/srv/a#b', ['h']],
    ],
  );
});

test('CRLF line endings are accepted', () => {
  const es = parseExports('/a h(rw)\r\n/b h\r\n');
  assert.deepEqual(es.map((e) => e.path), ['/a', '/b']);
});

test('paths are normalised; the same path on two lines merges clients', () => {
  const es = parseExports('/srv//x/ a\n/srv/x/. b(rw)\n/ c\n');
  assert.deepEqual(
    es.map((e) => [e.path, e.clients.map((c) => c.host)]),
    [
      ['/srv/x', ['a', 'b']],
      ['/', ['c']],
    ],
  );
});

test('all host forms are accepted', () => {
  const hosts = ['10.1.2.3', '::1', 'fe80::1', '2001:db8::/32', '10.0.0.0/8', '192.168.0.0/255.255.0.0', '*', 'host.example.com', '*.example.com', 'host?.lan', 'UPPER.example.com', '::ffff:10.0.0.0/104'];
  const [e] = parseExports('/x ' + hosts.map((h) => `${h}(rw)`).join(' '));
  assert.deepEqual(e!.clients.map((c) => c.host), hosts);
});

test('ignored Linux options are accepted with warnings', () => {
  const warnings: ExportsWarning[] = [];
  const opts = 'no_subtree_check,subtree_check,wdelay,no_wdelay,crossmnt,nohide,hide,fsid=0,fsid=root,mp,mp=/srv,no_acl,acl,insecure_locks,secure_locks,sec=sys';
  const [e] = parseExports(`/x h(rw,${opts})`, 'f', warnings);
  assert.equal(e!.clients[0]!.options.readOnly, false);
  assert.equal(warnings.length, opts.split(',').length);
  assert.ok(warnings.every((w) => w.line === 1 && w.source === 'f'));
});

test('syntax errors carry the line number', () => {
  syntaxError('/a h\n/b h(bogus)\n', 2, /unknown export option "bogus"/);
  syntaxError('/a h\n\n/b h(rw\n', 3, /missing "\)"/);
  syntaxError('/a h(rw, sync)\n', 1);
  syntaxError('relative h\n', 1, /absolute/);
  syntaxError('/a/../b h\n', 1, /\.\./);
  syntaxError('/a h(anonuid)\n', 1, /numeric/);
  syntaxError('/a h(anonuid=-2)\n', 1, /numeric/);
  syntaxError('/a h(anonuid=4294967295)\n', 1, /numeric/);
  syntaxError('/a h(rw=1)\n', 1, /takes no value/);
  syntaxError('/a h(fsid)\n', 1, /needs a value/);
  syntaxError('/a h(sec=krb5)\n', 1, /sec=sys/);
  syntaxError('/a h(sec=sys:krb5p)\n', 1, /sec=sys/);
  syntaxError('/a h(no_subtree_check=1)\n', 1, /takes no value/);
  syntaxError('/a (rw)\n', 1, /without a host/);
  syntaxError('/a h (rw)\n', 1, /without a host/);
  syntaxError('/a @netgroup(rw)\n', 1, /netgroup/);
  syntaxError('/a gss/krb5(rw)\n', 1, /AUTH_SYS/);
  syntaxError('/a 10.0.0.0/33(rw)\n', 1, /netmask/);
  syntaxError('/a 10.0.0.0/255.0.255.0(rw)\n', 1, /netmask/);
  syntaxError('/a 999.1.1.1/8(rw)\n', 1, /network address/);
  syntaxError('/a bad_host!(rw)\n', 1, /host name/);
  syntaxError('/a h(rw)(ro)\n', 1);
  syntaxError('/a h) \n', 1);
  syntaxError('/a h -rw\n', 1, /directly follow/);
  syntaxError('/a\\\n h\n"/unterminated h\n', 3, /unterminated/);
  // The line of the offending token, not of the start of the logical line.
  syntaxError('/a h(rw) \\\n  h2(nope)\n', 2, /nope/);
});

test('an IP-looking wildcard gets a warning', () => {
  const r = parseExportsWithWarnings('/a 192.168.1.*(rw)');
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]!.message, /CIDR/);
});

test('formatExports round-trips', () => {
  const text = [
    '"/srv/my data" -rw,insecure a b(ro,all_squash,anonuid=7) 10.0.0.0/8(no_root_squash,async)',
    '/srv/we\\042ird\\134path h(anongid=0)',
    '/srv/\\011tab *(rw)',
    '/ ::1(rw,no_root_squash,insecure)',
  ].join('\n');
  const es = parseExports(text);
  assert.equal(es[1]!.path, '/srv/we"ird\\path');
  assert.equal(es[2]!.path, '/srv/\ttab');
  const printed = formatExports(es);
  assert.deepEqual(parseExports(printed), es);
  // Printing is stable.
  assert.equal(formatExports(parseExports(printed)), printed);
  assert.match(printed, /^"\/srv\/my data" a\(rw,sync,insecure,root_squash,no_all_squash\) /);
});

test('formatExports round-trips an odd path with quotes and spaces', () => {
  const entries = [{ path: '/a "b" c\\d', clients: [{ host: '*', options: D }] }];
  assert.deepEqual(parseExports(formatExports(entries)), entries);
});
