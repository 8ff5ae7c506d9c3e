/**
 * exports(5) parser and printer.
 *
 *   # comment
 *   /srv/data      10.0.0.0/8(rw,no_root_squash) *.lan(ro)
 *   "/srv/my data" -rw,insecure  host1 host2(ro)     <- "-opts": defaults for this line
 *   /srv/pub                                          <- no host: everyone, defaults
 *   /srv/long  a.example.com(rw) \
 *              b.example.com(ro)                      <- "\" continues the line
 *
 * Deliberate strictness: an unknown option, or an option that would change
 * meaning here, is an error with a line number, never a silent default: a
 * typo in an exports file otherwise widens or narrows access without anyone
 * noticing. Linux options that have no meaning for this server are accepted
 * and reported as warnings, so real /etc/exports files load.
 *
 * One option table drives both parsing and printing (as knfsd's expflags[]
 * does), so the two cannot drift apart.
 */
import type { ClientSpec, ExportEntry, ExportOptions } from './types.js';
import { parseHostPattern, HostPatternError } from './match.js';
import { normalizePath, PathError } from './path.js';

export class ExportsSyntaxError extends Error {
  readonly code = 'EXPORTS_SYNTAX';
  readonly line: number;
  readonly source: string;
  constructor(source: string, line: number, message: string) {
    super(`${source}:${line}: ${message}`);
    this.name = 'ExportsSyntaxError';
    this.line = line;
    this.source = source;
  }
}

export interface ExportsWarning {
  source: string;
  line: number;
  message: string;
}

// ------------------------------------------------------------ option table

/** Parse-time view: root_squash and all_squash are independent flags in Linux. */
interface OptionState {
  readOnly: boolean;
  sync: boolean;
  secure: boolean;
  rootSquash: boolean;
  allSquash: boolean;
  anonuid: number;
  anongid: number;
}

type FlagKey = 'readOnly' | 'sync' | 'secure' | 'rootSquash' | 'allSquash';

/** [set name, clear name] per flag, in print order (like knfsd's expflags[]). */
const FLAGS: readonly { key: FlagKey; on: string; off: string }[] = [
  { key: 'readOnly', on: 'ro', off: 'rw' },
  { key: 'sync', on: 'sync', off: 'async' },
  { key: 'secure', on: 'secure', off: 'insecure' },
  { key: 'rootSquash', on: 'root_squash', off: 'no_root_squash' },
  { key: 'allSquash', on: 'all_squash', off: 'no_all_squash' },
];

const IDS: readonly { key: 'anonuid' | 'anongid'; name: string }[] = [
  { key: 'anonuid', name: 'anonuid' },
  { key: 'anongid', name: 'anongid' },
];

/** nobody/nogroup, the Linux default for anonuid/anongid. */
export const ANON_ID = 65534;

/**
 * Linux options that do not apply to this server. `value`: whether "=x" is
 * forbidden, optional or required; `check` rejects values we must not
 * pretend to honour (sec= other than sys).
 */
interface IgnoredOption {
  value: 'none' | 'optional' | 'required';
  why: string;
  check?: (v: string) => string | undefined;
}
const IGNORED: ReadonlyMap<string, IgnoredOption> = new Map<string, IgnoredOption>([
    ['no_subtree_check', { value: 'none', why: 'no subtree checking is done: handles name objects, not paths' }],
    ['subtree_check', { value: 'none', why: 'subtree checking is not implemented; handles are MAC-protected per export' }],
    ['wdelay', { value: 'none', why: 'write gathering is not implemented' }],
    ['no_wdelay', { value: 'none', why: 'write gathering is not implemented' }],
    ['crossmnt', { value: 'none', why: 'an export is one backend; mounts below it are not crossed' }],
    ['nohide', { value: 'none', why: 'each export is mounted on its own' }],
    ['hide', { value: 'none', why: 'each export is mounted on its own' }],
    ['fsid', { value: 'required', why: 'the fsid is derived from the export path' }],
    ['mp', { value: 'optional', why: 'mount point checks are not done' }],
    ['no_acl', { value: 'none', why: 'ACLs are not served' }],
    ['acl', { value: 'none', why: 'ACLs are not served' }],
    ['insecure_locks', { value: 'none', why: 'NLM is not served' }],
    ['secure_locks', { value: 'none', why: 'NLM is not served' }],
    [
      'sec',
      {
        value: 'required',
        why: 'AUTH_SYS is the only flavour',
        check: (v: string) => (v.split(':').every((f) => f === 'sys') ? undefined : `only sec=sys is supported, not sec=${v}`),
      },
    ],
  ]);

const LINUX_DEFAULTS: OptionState = {
  readOnly: true,
  sync: true,
  secure: true,
  rootSquash: true,
  allSquash: false,
  anonuid: ANON_ID,
  anongid: ANON_ID,
};

/** The options a client gets when none are written (ro, sync, secure, root_squash). */
export function defaultExportOptions(): ExportOptions {
  return toOptions(LINUX_DEFAULTS);
}

function toOptions(s: OptionState): ExportOptions {
  return {
    readOnly: s.readOnly,
    secure: s.secure,
    squash: s.allSquash ? 'all' : s.rootSquash ? 'root' : 'none',
    anonuid: s.anonuid,
    anongid: s.anongid,
    sync: s.sync,
  };
}

function fromOptions(o: ExportOptions): OptionState {
  return {
    readOnly: o.readOnly,
    sync: o.sync,
    secure: o.secure,
    // all_squash implies squashing root too; print it that way.
    rootSquash: o.squash !== 'none',
    allSquash: o.squash === 'all',
    anonuid: o.anonuid,
    anongid: o.anongid,
  };
}

interface Ctx {
  source: string;
  line: number;
  warnings: ExportsWarning[];
}

function fail(ctx: Ctx, message: string): never {
  throw new ExportsSyntaxError(ctx.source, ctx.line, message);
}

function applyOptions(list: string, base: OptionState, ctx: Ctx): OptionState {
  const st = { ...base };
  for (const raw of list.split(',')) {
    const opt = raw.trim();
    if (opt === '') continue;
    const eq = opt.indexOf('=');
    const name = eq < 0 ? opt : opt.slice(0, eq);
    const value = eq < 0 ? undefined : opt.slice(eq + 1);
    const flag = FLAGS.find((f) => f.on === name || f.off === name);
    if (flag) {
      if (value !== undefined) fail(ctx, `option "${name}" takes no value`);
      st[flag.key] = flag.on === name;
      continue;
    }
    const id = IDS.find((d) => d.name === name);
    if (id) {
      if (value === undefined || !/^\d{1,10}$/.test(value) || Number(value) > 0xfffffffe) {
        fail(ctx, `option "${name}" needs a numeric id (0..4294967294)`);
      }
      st[id.key] = Number(value);
      continue;
    }
    const ign = IGNORED.get(name);
    if (ign) {
      if (ign.value === 'none' && value !== undefined) fail(ctx, `option "${name}" takes no value`);
      if (ign.value === 'required' && !value) fail(ctx, `option "${name}" needs a value`);
      const bad = value !== undefined ? ign.check?.(value) : undefined;
      if (bad) fail(ctx, bad);
      ctx.warnings.push({ source: ctx.source, line: ctx.line, message: `option "${opt}" ignored: ${ign.why}` });
      continue;
    }
    fail(ctx, `unknown export option "${opt}"`);
  }
  return st;
}

/** "ro,sync,secure,root_squash,no_all_squash[,anonuid=N][,anongid=N]". */
export function formatOptions(o: ExportOptions): string {
  const s = fromOptions(o);
  const parts = FLAGS.map((f) => (s[f.key] ? f.on : f.off));
  for (const d of IDS) if (s[d.key] !== ANON_ID) parts.push(`${d.name}=${s[d.key]}`);
  return parts.join(',');
}

// --------------------------------------------------------------- tokenizer

interface Token {
  text: string;
  line: number;
  quoted: boolean;
}

/**
 * Split into logical lines of tokens. Tokens are whitespace-separated;
 * double quotes group (paths with spaces); "\ooo" (three octal digits) is a
 * character, as exportfs prints it; "\" before a newline joins lines; "#" at
 * the start of a token starts a comment to the end of the physical line.
 */
function tokenize(text: string, source: string): { line: number; tokens: Token[] }[] {
  const out: { line: number; tokens: Token[] }[] = [];
  let tokens: Token[] = [];
  let cur: Token | undefined;
  let quote = false;
  let line = 1;
  const endToken = (): void => {
    if (cur) tokens.push(cur);
    cur = undefined;
  };
  const endLine = (): void => {
    endToken();
    if (tokens.length) out.push({ line: tokens[0]!.line, tokens });
    tokens = [];
  };
  const start = (): Token => (cur ??= { text: '', line, quoted: false });
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') {
      const oct = /^[0-7]{3}/.exec(text.slice(i + 1, i + 4));
      if (oct) {
        start().text += String.fromCharCode(parseInt(oct[0], 8));
        i += 3;
        continue;
      }
      const nl = text.startsWith('\r\n', i + 1) ? 2 : text[i + 1] === '\n' ? 1 : 0;
      if (nl && !quote) {
        endToken();
        line++;
        i += nl;
        continue;
      }
      start().text += c; // a lone backslash is just a character
      continue;
    }
    if (quote) {
      if (c === '"') quote = false;
      else if (c === '\n') throw new ExportsSyntaxError(source, line, 'unterminated quoted string');
      else cur!.text += c;
      continue;
    }
    if (c === '\n') {
      endLine();
      line++;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      endToken();
    } else if (c === '#' && !cur) {
      const nl = text.indexOf('\n', i);
      i = (nl < 0 ? text.length : nl) - 1;
    } else if (c === '"') {
      start().quoted = true;
      quote = true;
    } else {
      start().text += c;
    }
  }
  if (quote) throw new ExportsSyntaxError(source, line, 'unterminated quoted string');
  endLine();
  return out;
}

// ------------------------------------------------------------------ parser

/** Parse an exports file, collecting warnings (ignored options, implicit "*", ...). */
export function parseExportsWithWarnings(text: string, source = 'exports'): { entries: ExportEntry[]; warnings: ExportsWarning[] } {
  const warnings: ExportsWarning[] = [];
  const byPath = new Map<string, ExportEntry>();
  for (const { tokens } of tokenize(text, source)) {
    const [first, ...rest] = tokens as [Token, ...Token[]];
    const ctx: Ctx = { source, line: first.line, warnings };
    if (!first.text.startsWith('/')) fail(ctx, `export path must be absolute: ${JSON.stringify(first.text)}`);
    let path: string;
    try {
      path = normalizePath(first.text);
    } catch (e) {
      if (e instanceof PathError) fail(ctx, e.message);
      throw e;
    }
    let defaults = LINUX_DEFAULTS;
    let i = 0;
    if (rest[0] && rest[0].text.startsWith('-') && !rest[0].quoted) {
      ctx.line = rest[0].line;
      defaults = applyOptions(rest[0].text.slice(1), LINUX_DEFAULTS, ctx);
      i = 1;
    }
    const clients: ClientSpec[] = [];
    for (const tok of rest.slice(i)) {
      ctx.line = tok.line;
      clients.push(parseClient(tok.text, defaults, ctx));
    }
    if (clients.length === 0) {
      warnings.push({ source, line: first.line, message: `no host given for ${path}: exported to everyone ("*")` });
      clients.push({ host: '*', options: toOptions(defaults) });
    }
    const prev = byPath.get(path);
    // The same path on several lines adds clients, as exportfs merges them.
    const entry = prev ?? { path, clients: [] };
    for (const c of clients) {
      if (entry.clients.some((x) => x.host === c.host)) {
        warnings.push({ source, line: first.line, message: `${path}: host ${c.host} listed twice; the first entry wins` });
      }
      entry.clients.push(c);
    }
    if (!prev) byPath.set(path, entry);
  }
  return { entries: [...byPath.values()], warnings };
}

function parseClient(tok: string, defaults: OptionState, ctx: Ctx): ClientSpec {
  if (tok.startsWith('-')) fail(ctx, `default options ("${tok}") must directly follow the export path`);
  const open = tok.indexOf('(');
  let host = tok;
  let opts = '';
  if (open >= 0) {
    if (!tok.endsWith(')')) fail(ctx, `missing ")" in "${tok}" (no spaces are allowed inside an option list)`);
    host = tok.slice(0, open);
    opts = tok.slice(open + 1, -1);
    if (/[()]/.test(opts)) fail(ctx, `bad parentheses in "${tok}"`);
  } else if (tok.includes(')')) {
    fail(ctx, `unexpected ")" in "${tok}"`);
  }
  if (host === '') {
    // Linux reads "host (rw)" as "host with defaults, and everyone rw" and only
    // warns: a classic way to export to the world by accident. Refuse it.
    fail(ctx, `option list "${tok}" without a host; write "host(${opts})", or "*(${opts})" for everyone`);
  }
  let pattern;
  try {
    pattern = parseHostPattern(host);
  } catch (e) {
    if (e instanceof HostPatternError) fail(ctx, e.message);
    throw e;
  }
  if (pattern.kind === 'wildcard' && /^[\d.*?]+$/.test(host)) {
    ctx.warnings.push({
      source: ctx.source,
      line: ctx.line,
      message: `"${host}" is a host NAME wildcard and never matches an address; use CIDR (e.g. 192.168.1.0/24)`,
    });
  }
  return { host, options: toOptions(applyOptions(opts, defaults, ctx)) };
}

/**
 * Parse an exports file. Throws ExportsSyntaxError (code EXPORTS_SYNTAX,
 * with `.line`). Pass `warnings` to receive the warnings.
 */
export function parseExports(text: string, source?: string, warnings?: ExportsWarning[]): ExportEntry[] {
  const r = parseExportsWithWarnings(text, source);
  warnings?.push(...r.warnings);
  return r.entries;
}

// ----------------------------------------------------------------- printer

/** Quote a path when it has blanks; octal-escape what the parser treats specially. */
export function formatPath(path: string): string {
  let s = '';
  for (const ch of path) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\' || ch === '"' || c < 0x20 || c === 0x7f) s += '\\' + c.toString(8).padStart(3, '0');
    else s += ch;
  }
  return /[ \t]/.test(s) ? `"${s}"` : s;
}

/** One line per export: `/path host(opts) host2(opts)`; parses back to the same entries. */
export function formatExports(entries: readonly ExportEntry[]): string {
  return entries
    .map((e) => [formatPath(e.path), ...e.clients.map((c) => `${c.host}(${formatOptions(c.options)})`)].join(' ') + '\n')
    .join('');
}
