// Where to push and as whom: image references as docker parses them, and credentials as the
// docker CLI keeps them (config.json `auths`, `credHelpers`, `credsStore` through the
// docker-credential-* programs). Secrets stay in memory: nothing here prints or logs them.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ElfpackError } from '../errors.js';

export interface ImageRef {
  /** host[:port] as written; docker.io for Docker Hub. */
  registry: string;
  repository: string;
  tag: string;
}

const HUB = 'docker.io';

/** "[registry/]repo[:tag]": the first component is a registry when it has "." or ":" or is localhost. */
export function parseRef(ref: string): ImageRef {
  const m = /^(?:([^/]+)\/)?([^:@]+(?:\/[^:@]+)*?)(?::([\w][\w.-]{0,127}))?$/.exec(ref);
  let first = m?.[1];
  let rest = m?.[2];
  if (!m || !rest) throw new ElfpackError('USAGE', `bad image reference "${ref}": want [REGISTRY/]NAME[:TAG]`);
  if (first && !/[.:]/.test(first) && first !== 'localhost') {
    rest = `${first}/${rest}`;
    first = undefined;
  }
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(rest)) {
    throw new ElfpackError('USAGE', `bad repository name in "${ref}": lowercase letters, digits and separators`);
  }
  const registry = first ?? HUB;
  const repository = registry === HUB && !rest.includes('/') ? `library/${rest}` : rest;
  return { registry, repository, tag: m[3] ?? 'latest' };
}

/** Registries on the loopback may speak plain HTTP, as docker allows. */
export function isLocalRegistry(host: string): boolean {
  return /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(:\d+)?$/.test(host);
}

export interface Credentials {
  username: string;
  password: string;
}

/**
 * Credentials for `registry` from DOCKER_CONFIG/config.json: a credential helper for that host,
 * else the credsStore, else the base64 `auth` of `auths`. Undefined when there are none.
 */
export function findCredentials(registry: string, configDir: string, env: NodeJS.ProcessEnv): Credentials | undefined {
  let config: { auths?: Record<string, { auth?: string; username?: string; password?: string }>; credHelpers?: Record<string, string>; credsStore?: string };
  try {
    config = JSON.parse(readFileSync(join(configDir, 'config.json'), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // Never JSON.parse's message: it quotes the file, and this one holds credentials.
    const why = err instanceof SyntaxError ? 'is not valid JSON' : `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
    throw new ElfpackError('USAGE', why, { path: join(configDir, 'config.json'), step: 'auth' });
  }
  const keys = registry === HUB ? ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io'] : [registry, `https://${registry}`, `http://${registry}`];
  const helper = keys.map((k) => config.credHelpers?.[k]).find(Boolean) ?? config.credsStore;
  if (helper) {
    const got = fromHelper(helper, keys[0], env);
    if (got) return got;
  }
  for (const k of keys) {
    const a = config.auths?.[k];
    if (a?.auth) {
      const plain = Buffer.from(a.auth, 'base64').toString('utf8');
      const i = plain.indexOf(':');
      if (i > 0) return { username: plain.slice(0, i), password: plain.slice(i + 1) };
    }
    if (a?.username && a.password) return { username: a.username, password: a.password };
  }
  return undefined;
}

/** `docker-credential-NAME get`, the server on stdin, {Username, Secret} on stdout. */
function fromHelper(name: string, server: string, env: NodeJS.ProcessEnv): Credentials | undefined {
  const prog = `docker-credential-${name}`;
  const r = spawnSync(prog, ['get'], { input: server, env, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new ElfpackError('REGISTRY_AUTH', `credential helper ${prog} cannot run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`, { step: 'auth' });
  // A helper says "credentials not found" with a non-zero exit: then there simply are none.
  if (r.status !== 0) return undefined;
  try {
    const j = JSON.parse(r.stdout) as { Username?: string; Secret?: string };
    return j.Username && j.Secret ? { username: j.Username, password: j.Secret } : undefined;
  } catch {
    throw new ElfpackError('REGISTRY_AUTH', `credential helper ${prog} did not answer with JSON`, { step: 'auth' });
  }
}

/** The parameters of a WWW-Authenticate challenge: Bearer realm="…",service="…",scope="…". */
export function parseChallenge(header: string | null): { scheme: string; params: Record<string, string> } | undefined {
  if (!header) return undefined;
  const m = /^(\w+)\s*(.*)$/.exec(header.trim());
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2].matchAll(/(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) params[p[1].toLowerCase()] = p[2] ?? p[3];
  return { scheme: m[1].toLowerCase(), params };
}
