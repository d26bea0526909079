import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  aptProxies, combineProxies, isAptConfPartName, MAX_APT_CONF_DEPTH, MAX_APT_CONF_FILES, MAX_APT_CONF_STATEMENTS, parseAptConf, readAptConfig, type AptConfig,
} from '../../src/deb/apt-config.js';
import { hostSourcesReader, type SourcesReader } from '../../src/deb/apt-sources.js';
import { describeProxies, proxyUrlFor, type ProxyOptions } from '../../src/deb/archive-proxy.js';
import { thrown } from '../support/helpers.js';

function files(map: Record<string, string>): SourcesReader {
  return {
    readText: (p) => map[p],
    list: (dir) => Object.keys(map).filter((p) => p.startsWith(`${dir}/`)).map((p) => p.slice(dir.length + 1)),
  };
}

function parse(text: string): Record<string, string> {
  const conf: AptConfig = new Map();
  parseAptConf(text, '/etc/apt/apt.conf', conf);
  return Object.fromEntries([...conf].map(([k, v]) => [k, v.value]));
}

describe('deb/apt-config', () => {
  it('reads A::B "v";, scopes, comments, unquoted values, statements over lines; names without case', () => {
    expect(parse([
      '// a comment',
      'Acquire::http::Proxy "http://p:3128/"; # another',
      'Acquire { https { Proxy "http://q:8080"; Proxy::Deb.Example.ORG "DIRECT"; }; };',
      '/* a block',
      '   Acquire::ftp::Proxy "x"; */ APT::Get::Foo "a//b#c";',
      'Dpkg::Options { "--force-confold"; };',
      'Acquire::Retries',
      '  "3";',
      'Acquire::http::Timeout 10;',
      'APT::Sandbox::User "_apt" /* inline */;',
    ].join('\n'))).to.deep.equal({
      'acquire::http::proxy': 'http://p:3128/',
      'acquire::https::proxy': 'http://q:8080',
      'acquire::https::proxy::deb.example.org': 'DIRECT',
      'apt::get::foo': 'a//b#c',
      'acquire::retries': '3',
      'acquire::http::timeout': '10',
      'apt::sandbox::user': '_apt',
    });
  });

  it('#clear drops a tree; later settings replace earlier ones', () => {
    expect(parse([
      'Acquire::http::Proxy "http://a:1";',
      'Acquire::http::Proxy::h "DIRECT";',
      'Acquire::https::Proxy "http://b:2";',
      '#clear Acquire::http::Proxy;',
      'Acquire::https::Proxy "http://c:3";',
    ].join('\n'))).to.deep.equal({ 'acquire::https::proxy': 'http://c:3' });
  });

  it('a syntax error is one line naming file:line', () => {
    const conf: AptConfig = new Map();
    const at = (text: string) => thrown(() => parseAptConf(text, '/etc/apt/apt.conf.d/01x', conf)).message;
    expect(at('A::B "v";\n{ C "d"; };')).to.equal('/etc/apt/apt.conf.d/01x:2: syntax error: block starts with no name');
    expect(at('A::B "v" junk;')).to.equal('/etc/apt/apt.conf.d/01x:1: syntax error: extra junk after value');
    expect(at('A::B "v"\n')).to.equal('/etc/apt/apt.conf.d/01x:2: syntax error: extra junk at end of file');
    expect(at('A { #clear B; };')).to.equal('/etc/apt/apt.conf.d/01x:1: syntax error: directives can only be done at the top level');
    expect(parse('#frobnicate x;\n# a comment, as apt 2.6 takes any other #')).to.deep.equal({});
  });

  it('is bounded: nesting depth, statements, files', () => {
    const deep = `${'A { '.repeat(MAX_APT_CONF_DEPTH + 1)}B "v"; ${'}; '.repeat(MAX_APT_CONF_DEPTH + 1)}`;
    expect(thrown(() => parseAptConf(deep, 'f', new Map())).message).to.equal(`f:1: syntax error: scopes nested deeper than ${MAX_APT_CONF_DEPTH}`);
    expect(thrown(() => parseAptConf('A "v";\n'.repeat(MAX_APT_CONF_STATEMENTS + 1), 'f', new Map())).message).to.equal(`f:${MAX_APT_CONF_STATEMENTS + 1}: more than ${MAX_APT_CONF_STATEMENTS} apt configuration statements`);
    const many = Object.fromEntries(Array.from({ length: MAX_APT_CONF_FILES + 1 }, (_, i) => [`/etc/apt/apt.conf.d/${String(i).padStart(4, '0')}x`, 'A "v";']));
    expect(thrown(() => readAptConfig(files(many))).message).to.match(new RegExp(`more than ${MAX_APT_CONF_FILES} apt configuration files$`));
  });

  it('reads apt.conf.d\'s names as apt does (run-parts names, or .conf), in byte order, apt.conf last', () => {
    for (const n of ['01proxy', '01proxy.conf', '70debconf', 'a:b', 'Z-last']) expect(isAptConfPartName(n), n).to.equal(true);
    for (const n of ['01proxy.bak', '01proxy~', '01proxy.dpkg-old', '01proxy.disabled', '.hidden', 'x.', 'with space', '01proxy.save']) expect(isAptConfPartName(n), n).to.equal(false);
    const conf = readAptConfig(files({
      '/etc/apt/apt.conf.d/20b': 'X "20b"; Y "20b";',
      '/etc/apt/apt.conf.d/10a.conf': 'X "10a"; Y "10a"; Z "10a";',
      '/etc/apt/apt.conf.d/99z.bak': 'Z "ignored";',
      '/etc/apt/apt.conf': 'X "main";',
    }));
    expect(conf.get('x')).to.deep.equal({ value: 'main', file: '/etc/apt/apt.conf', line: 1 });
    expect(conf.get('y')?.file).to.equal('/etc/apt/apt.conf.d/20b');
    expect(conf.get('z')?.value).to.equal('10a');
  });

  it('#include reads another file, a missing one is an error naming where it was included', () => {
    const conf = readAptConfig(files({ '/etc/apt/apt.conf': '#include "/etc/apt/more.conf";\nA "main";', '/etc/apt/more.conf': 'Acquire::http::Proxy "http://inc:1";' }));
    expect(conf.get('acquire::http::proxy')?.file).to.equal('/etc/apt/more.conf');
    expect(thrown(() => readAptConfig(files({ '/etc/apt/apt.conf': '\n#include "/nope";' }))).message).to.equal('/nope: cannot be read');
  });

  describe('apt 2.6\'s precedence (methods/http.cc HttpServerState::Open)', () => {
    const env: ProxyOptions = { http: 'http://env:1', https: 'http://envs:2', noProxy: 'skip.example' };
    const combined = (apt: string, e: ProxyOptions | undefined = env) => combineProxies(e, aptProxies(readAptConfig(files({ '/etc/apt/apt.conf.d/01proxy': apt }))));
    const via = (p: ProxyOptions | undefined, url: string) => proxyUrlFor(new URL(url), p);

    it('Acquire::http::Proxy wins over http_proxy, and serves https too when Acquire::https::Proxy is not set', () => {
      const p = combined('Acquire::http::Proxy "http://apt:3128";');
      expect(via(p, 'http://deb.debian.org/debian')).to.equal('http://apt:3128');
      expect(via(p, 'https://deb.debian.org/debian')).to.equal('http://apt:3128');
      expect(describeProxies(p)).to.equal('http via http://apt:3128 (from /etc/apt/apt.conf.d/01proxy), https via http://apt:3128 (from /etc/apt/apt.conf.d/01proxy); not for skip.example');
    });

    it('Acquire::https::Proxy for https; the environment when apt.conf sets none ("" is none)', () => {
      const p = combined('Acquire::https::Proxy "http://apts:1"; Acquire::http::Proxy "";');
      expect(via(p, 'http://h/')).to.equal('http://env:1');
      expect(via(p, 'https://h/')).to.equal('http://apts:1');
      expect(p?.from).to.deep.equal({ http: 'the environment', https: '/etc/apt/apt.conf.d/01proxy' });
    });

    it('per host: a URL or DIRECT wins over the general one; for https, https::Proxy::HOST before http::Proxy::HOST', () => {
      const p = combined('Acquire::http::Proxy "http://apt:3128"; Acquire::http::Proxy::Local.Example "DIRECT"; Acquire::http::Proxy::other "http://o:1"; Acquire::https::Proxy::other "http://os:2";');
      expect(via(p, 'http://local.example/')).to.equal(undefined);
      expect(via(p, 'https://local.example/')).to.equal(undefined);
      expect(via(p, 'http://other/')).to.equal('http://o:1');
      expect(via(p, 'https://other/')).to.equal('http://os:2');
      expect(describeProxies(p)).to.include('per host (apt.conf): http://local.example direct, http://other via http://o:1, https://local.example direct, https://other via http://os:2');
    });

    it('Acquire::http::Proxy "DIRECT" hides http_proxy; no_proxy still wins over apt.conf', () => {
      const p = combined('Acquire::http::Proxy "DIRECT"; Acquire::http::Proxy::skip.example "http://s:1";');
      expect(via(p, 'http://h/')).to.equal(undefined);
      expect(via(p, 'https://h/')).to.equal(undefined);
      expect(via(p, 'http://skip.example/')).to.equal(undefined);
    });

    it('no apt.conf proxy: the environment\'s, said to come from it', () => {
      const p = combined('APT::Get::Assume-Yes "true";');
      expect(p).to.deep.equal({ ...env, from: { http: 'the environment', https: 'the environment' } });
      expect(combineProxies(undefined, aptProxies(new Map()))).to.equal(undefined);
    });

    it('Proxy-Auto-Detect is found, to be warned about', () => {
      expect(aptProxies(readAptConfig(files({ '/etc/apt/apt.conf': 'Acquire::http::Proxy-Auto-Detect "/usr/bin/auto-apt-proxy";' }))).autoDetect.map((a) => a.name)).to.deep.equal(['Acquire::http::Proxy-Auto-Detect']);
    });
  });

  it('reads a host directory through hostSourcesReader', () => {
    const root = mkdtempSync(join(tmpdir(), 'elfpack-aptconf-'));
    try {
      const put = (p: string, text: string) => { mkdirSync(dirname(join(root, p)), { recursive: true }); writeFileSync(join(root, p), text); };
      put('etc/apt/apt.conf.d/01proxy', 'Acquire::http::Proxy "http://a:1";');
      put('etc/apt/apt.conf.d/02proxy.dpkg-dist', 'Acquire::http::Proxy "http://ignored:1";');
      mkdirSync(join(root, 'etc/apt/apt.conf.d/subdir'));
      expect(aptProxies(readAptConfig(hostSourcesReader(root))).http).to.deep.equal({ value: 'http://a:1', file: '/etc/apt/apt.conf.d/01proxy', line: 1 });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
