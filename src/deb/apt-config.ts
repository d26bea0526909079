// apt's own configuration, read as apt 2.6 reads it (apt-pkg/contrib/configuration.cc
// ReadConfigFile, apt-pkg/init.cc pkgInitConfig): /etc/apt/apt.conf.d/* in sorted order, then
// /etc/apt/apt.conf last, later settings replacing earlier ones. Only the archive proxies come out
// of it (Acquire::http(s)::Proxy…), combined with the environment in apt's order (methods/http.cc
// HttpServerState::Open). Bounded: a hostile or broken file is one error naming file:line.
import { ElfpackError } from '../errors.js';
import type { SourcesReader } from './apt-sources.js';
import type { ProxyOptions } from './archive-proxy.js';

export const APT_CONF = '/etc/apt/apt.conf';
export const APT_CONF_DIR = '/etc/apt/apt.conf.d';
/** Bytes of one file (a real one is a few hundred). */
export const MAX_APT_CONF_BYTES = 1 << 20;
/** Files read, apt.conf.d's and #include'd ones together (a Debian host has about ten). */
export const MAX_APT_CONF_FILES = 256;
/** Settings and directives across all files. */
export const MAX_APT_CONF_STATEMENTS = 20_000;
/** Nesting of `A { B { … } }` scopes. */
export const MAX_APT_CONF_DEPTH = 32;
/** Nesting of #include, apt's own bound ("Too many nested includes"). */
export const MAX_APT_CONF_INCLUDES = 10;

/** A setting and where it was set ("/etc/apt/apt.conf.d/01proxy:3"). */
export interface AptSetting {
  value: string;
  file: string;
  line: number;
}

/** Settings by name in lower case (apt compares names without case): "acquire::http::proxy". */
export type AptConfig = Map<string, AptSetting>;

/**
 * The names apt reads in a parts directory (fileutl.cc GetListOfFilesInDir with "conf", no
 * extension allowed): not hidden; an extension, if any, is "conf"; only letters, digits, _ - : .;
 * not ending in a period. So 01proxy and 01proxy.conf are read; 01proxy.bak, 01proxy~,
 * 01proxy.dpkg-old and 01proxy.disabled are not.
 */
export function isAptConfPartName(name: string): boolean {
  if (name.startsWith('.') || name.endsWith('.')) return false;
  const dot = name.lastIndexOf('.');
  if (dot >= 0 && name.slice(dot + 1) !== 'conf') return false;
  return /^[A-Za-z0-9_:.-]+$/.test(name);
}

/** apt's whole configuration as the host's files say it, apt.conf.d first and apt.conf last. */
export function readAptConfig(reader: SourcesReader): AptConfig {
  const conf: AptConfig = new Map();
  const budget = { files: 0, statements: 0 };
  readDir(reader, APT_CONF_DIR, conf, budget, 0);
  readFile(reader, APT_CONF, conf, budget, 0, false);
  return conf;
}

type Budget = { files: number; statements: number };

function readDir(reader: SourcesReader, dir: string, conf: AptConfig, budget: Budget, depth: number): void {
  // Byte order, as apt's std::sort of the paths.
  const names = reader.list(dir).filter(isAptConfPartName).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const n of names) readFile(reader, `${dir.replace(/\/$/, '')}/${n}`, conf, budget, depth, false);
}

function readFile(reader: SourcesReader, path: string, conf: AptConfig, budget: Budget, depth: number, required: boolean): void {
  let text: string | undefined;
  try {
    text = reader.readText(path);
  } catch {
    throw confError(path, 0, `larger than ${MAX_APT_CONF_BYTES >> 20} MiB: not an apt configuration file`); // the reader's own bound (the same 1 MiB)
  }
  if (text === undefined) {
    if (required) throw confError(path, 0, 'cannot be read');
    return; // a directory or a vanished file in apt.conf.d, or no apt.conf: apt reads on too
  }
  if (++budget.files > MAX_APT_CONF_FILES) throw confError(path, 0, `more than ${MAX_APT_CONF_FILES} apt configuration files`);
  if (Buffer.byteLength(text) > MAX_APT_CONF_BYTES) throw confError(path, 0, `larger than ${MAX_APT_CONF_BYTES >> 20} MiB: not an apt configuration file`);
  parseAptConf(text, path, conf, {
    budget,
    include: (word, line) => {
      if (depth + 1 > MAX_APT_CONF_INCLUDES) throw confError(path, line, 'syntax error: too many nested includes');
      if (word.length > 2 && word.endsWith('/')) readDir(reader, word, conf, budget, depth + 1);
      else readFile(reader, word, conf, budget, depth + 1, true);
    },
  });
}

function confError(file: string, line: number, what: string): ElfpackError {
  return new ElfpackError('USAGE', `${file}${line ? `:${line}` : ''}: ${what}`, { path: file, step: 'apt-config' });
}

/**
 * One file's text into `conf`, as ReadConfigFile parses it: statements end at ; { or } outside
 * quotes and may span lines; // and # (outside quotes) comment to the end of the line, /* *\/
 * spans lines; `A::B "v";` and `A { B "v"; };` set A::B; #clear drops a tree; #include reads
 * another file (or a directory, ending in /) through `include`.
 */
export function parseAptConf(text: string, file: string, conf: AptConfig, ctx: { budget?: Budget; include?: (path: string, line: number) => void } = {}): void {
  const budget = ctx.budget ?? { files: 0, statements: 0 };
  const stack: string[] = [];
  let parent = '';
  let buffer = '';
  let inComment = false;
  const lines = text.split('\n');
  for (let n = 1; n <= lines.length; n++) {
    const fail = (what: string) => confError(file, n, `syntax error: ${what}`);
    let line = lines[n - 1].replace(/\t/g, '        ').trim();
    if (inComment) {
      const end = line.indexOf('*/');
      if (end < 0) continue;
      line = line.slice(end + 2);
      inComment = false;
    }
    line = line.slice(0, unquoted(line, '//'));
    line = line.slice(0, unquoted(line, '#', (at) => /^#(clear|include|x-apt-configure-index)/.test(line.slice(at))));
    let fragment = '';
    for (;;) {
      const start = unquoted(line, '/*');
      if (start === line.length) break;
      fragment += line.slice(0, start);
      const end = line.indexOf('*/', start + 2);
      if (end < 0) {
        line = '';
        inComment = true;
        break;
      }
      line = line.slice(end + 2);
    }
    fragment += line;
    if (!fragment) continue;

    let inQuote = false;
    let start = 0;
    for (let i = 0; i < fragment.length; i++) {
      const c = fragment[i];
      if (c === '"') inQuote = !inQuote;
      if (inQuote || (c !== '{' && c !== ';' && c !== '}')) continue;
      const piece = fragment.slice(start, i).trim();
      if (buffer && piece) buffer += ' ';
      buffer += piece;
      start = i + 1;
      if (c === '{' && !buffer) throw fail('block starts with no name');
      if (!buffer) {
        if (c === '}') parent = stack.pop() ?? '';
        continue;
      }
      if (++budget.statements > MAX_APT_CONF_STATEMENTS) throw confError(file, n, `more than ${MAX_APT_CONF_STATEMENTS} apt configuration statements`);
      const t = quoteWord(buffer);
      if (!t) throw fail('malformed tag');
      let tag = t.word;
      let word: string;
      let noWord = false;
      const w = cWord(t.rest) ?? quoteWord(t.rest);
      if (w) {
        word = w.word;
        if (w.rest) throw fail('extra junk after value');
      } else if (c !== '{') {
        word = tag;
        tag = '';
      } else {
        word = '';
        noWord = true;
      }
      if (c === '{') {
        if (stack.length >= MAX_APT_CONF_DEPTH) throw fail(`scopes nested deeper than ${MAX_APT_CONF_DEPTH}`);
        stack.push(parent);
        parent = parent ? `${parent}::${tag}` : tag;
        tag = '';
      }
      const item = !parent ? tag : c !== '{' || tag ? `${parent}::${tag}` : parent;
      if (tag.startsWith('#')) {
        if (parent) throw fail('directives can only be done at the top level');
        const directive = tag.slice(1);
        if (directive === 'clear') clearTree(conf, word);
        else if (directive === 'include') ctx.include?.(word, n);
        else if (directive !== 'x-apt-configure-index') throw fail(`unsupported directive '${directive}'`);
      } else if (!tag && !noWord && word === '#clear') {
        throw fail('clear directive requires an option tree as argument');
      } else if (!noWord && item && !item.endsWith('::')) {
        conf.set(item.toLowerCase(), { value: word, file, line: n }); // list items (A:: "v") are not needed here
      }
      buffer = '';
      if (c === '}') parent = stack.pop() ?? '';
    }
    const rest = fragment.slice(start).trim();
    if (rest && buffer) buffer += ' ';
    buffer += rest;
  }
  if (buffer) throw confError(file, lines.length, 'syntax error: extra junk at end of file');
}

/** Where `token` first occurs outside double quotes (and `skip` does not excuse it), else the line's length. */
function unquoted(line: string, token: string, skip?: (at: number) => boolean): number {
  for (let at = line.indexOf(token); at >= 0; at = line.indexOf(token, at + 1)) {
    const quotes = line.slice(0, at).split('"').length - 1;
    if (quotes % 2 === 0 && !skip?.(at)) return at;
  }
  return line.length;
}

function clearTree(conf: AptConfig, name: string): void {
  const k = name.toLowerCase();
  for (const key of [...conf.keys()]) if (key === k || key.startsWith(`${k}::`)) conf.delete(key);
}

/** apt's ParseQuoteWord: one word up to white space, "…" and […] kept whole, quotes dropped, %xx decoded. */
function quoteWord(s: string): { word: string; rest: string } | undefined {
  let i = 0;
  while (s[i] === ' ') i++;
  if (i >= s.length) return undefined;
  const from = i;
  for (; i < s.length && !/\s/.test(s[i]); i++) {
    const close = s[i] === '"' ? '"' : s[i] === '[' ? ']' : undefined;
    if (close) {
      i = s.indexOf(close, i + 1);
      if (i < 0) return undefined;
    }
  }
  const word = s.slice(from, i).replace(/%([0-9a-fA-F]{2})|"/g, (m, hex?: string) => (hex ? String.fromCharCode(parseInt(hex, 16)) : ''));
  return { word, rest: s.slice(i).trimStart() };
}

/** apt's ParseCWord: the rest is only "…" strings (white space between them is one space), joined. */
function cWord(s: string): { word: string; rest: string } | undefined {
  let i = 0;
  while (s[i] === ' ') i++;
  if (i >= s.length) return undefined;
  let word = '';
  for (; i < s.length; i++) {
    if (s[i] === '"') {
      const end = s.indexOf('"', i + 1);
      if (end < 0) return undefined;
      word += s.slice(i + 1, end);
      i = end;
    } else if (!/\s/.test(s[i])) return undefined;
    else if (i === 0 || !/\s/.test(s[i - 1])) word += ' ';
  }
  return { word, rest: '' };
}

/** apt.conf's proxy settings, empty values left out (apt takes "" as unset). */
export interface AptProxies {
  http?: AptSetting;
  https?: AptSetting;
  perHost: { http: Map<string, AptSetting>; https: Map<string, AptSetting> };
  /** Acquire::http(s)::Proxy-Auto-Detect (or ProxyAutoDetect): a command elfpack does not run. */
  autoDetect: { name: string; setting: AptSetting }[];
}

export function aptProxies(conf: AptConfig): AptProxies {
  const out: AptProxies = { perHost: { http: new Map(), https: new Map() }, autoDetect: [] };
  for (const [key, s] of conf) {
    if (!s.value) continue;
    const m = /^acquire::(https?)::(proxy-auto-detect|proxyautodetect|proxy)(?:::(.+))?$/.exec(key);
    if (!m) continue;
    const scheme = m[1] as 'http' | 'https';
    if (m[2] !== 'proxy') {
      if (!m[3]) out.autoDetect.push({ name: `Acquire::${scheme}::${m[2] === 'proxy-auto-detect' ? 'Proxy-Auto-Detect' : 'ProxyAutoDetect'}`, setting: s });
    } else if (m[3]) out.perHost[scheme].set(m[3], s);
    else out[scheme] = s;
  }
  return out;
}

/**
 * The proxies apt 2.6 would use (methods/http.cc HttpServerState::Open, aptmethod.h ConfigFind):
 * for an http:// URL, Acquire::http::Proxy::HOST, else Acquire::http::Proxy, else the
 * environment's; for https://, the https:: setting of each before the http:: one (the https method
 * reads both), per host first. "DIRECT" means none, and a set Acquire::…::Proxy, even "DIRECT",
 * hides the environment's. no_proxy (the environment's) still wins over all of them.
 */
export function combineProxies(env: ProxyOptions | undefined, apt: AptProxies): ProxyOptions | undefined {
  const general = (s: 'http' | 'https') => (s === 'https' ? apt.https ?? apt.http : apt.http);
  const out: ProxyOptions = {};
  for (const s of ['http', 'https'] as const) {
    const g = general(s);
    if (g) {
      if (g.value !== 'DIRECT') {
        out[s] = g.value;
        (out.from ??= {})[s] = g.file;
      }
    } else if (env?.[s]) {
      out[s] = env[s];
      (out.from ??= {})[s] = 'the environment';
    }
    const hosts = s === 'https' ? new Map([...apt.perHost.http, ...apt.perHost.https]) : apt.perHost.http;
    if (hosts.size) (out.perHost ??= {})[s] = Object.fromEntries([...hosts].map(([h, v]) => [h, v.value]));
  }
  if (env?.noProxy) out.noProxy = env.noProxy;
  return out.http || out.https || out.perHost ? out : env;
}
