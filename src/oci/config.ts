// The image configuration (image-spec config.md), one model for what elfpack reads (an image's
// config blob: docker save and OCI layouts store the same shape) and what it writes. Only the
// fields that decide how the container runs; keys are written in a fixed order, so the same
// config gives the same bytes, hence the same digest.
import { ElfpackError } from '../errors.js';
import { platformFromFields, type Platform } from './platform.js';

/** Docker's default PATH: what a FROM-scratch container gets when the image sets none. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ImageConfig {
  /** architecture/os/variant; undefined when a config read names no architecture. */
  platform?: Platform;
  entrypoint: string[];
  cmd: string[];
  /** KEY=VALUE, in the config's order. */
  env: string[];
  /** Empty means "/". */
  workingDir: string;
  /** Empty means root. */
  user: string;
  /** "8080/tcp", "53/udp" (ExposedPorts); written normalized, sorted, once each. */
  ports: string[];
  labels: Record<string, string>;
}

export const EMPTY_IMAGE_CONFIG: ImageConfig = { entrypoint: [], cmd: [], env: [], workingDir: '', user: '', ports: [], labels: {} };

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The run fields of a config's "config" object (the engine's inspect has the same one, as "Config"). */
export function runFieldsOf(c: unknown): Omit<ImageConfig, 'platform'> {
  const o = isObject(c) ? c : {};
  return {
    entrypoint: strings(o.Entrypoint),
    cmd: strings(o.Cmd),
    env: strings(o.Env),
    workingDir: str(o.WorkingDir),
    user: str(o.User),
    ports: isObject(o.ExposedPorts) ? Object.keys(o.ExposedPorts) : [],
    labels: isObject(o.Labels) ? Object.fromEntries(Object.entries(o.Labels).filter((e): e is [string, string] => typeof e[1] === 'string')) : {},
  };
}

/** From an OCI / docker image config blob: {architecture, os, variant, config: {Entrypoint, …}}. */
export function imageConfigOf(blob: unknown): ImageConfig {
  const b = isObject(blob) ? blob : {};
  return { ...runFieldsOf(b.config), platform: platformFromFields(b.os, b.architecture, b.variant) };
}

/** The value of `key` in a config's Env, if set (the last, if it is listed twice). */
export function envValue(env: string[], key: string): string | undefined {
  for (let i = env.length - 1; i >= 0; i--) if (env[i].startsWith(`${key}=`)) return env[i].slice(key.length + 1);
  return undefined;
}

/** `env` with Docker's default PATH first unless it sets one. */
export function withDefaultPath(env: string[]): string[] {
  return env.some((e) => e.startsWith('PATH=')) ? [...env] : [`PATH=${DEFAULT_PATH}`, ...env];
}

/** "8080" → "8080/tcp"; the protocol is checked. */
export function normalizePort(p: string): string {
  const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(p.trim());
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new ElfpackError('USAGE', `bad port "${p}": want N or N/tcp, N/udp, N/sctp with 1 ≤ N ≤ 65535`);
  return `${Number(m[1])}/${m[2] ?? 'tcp'}`;
}

export interface ConfigHistory {
  created: Date;
  /** The history entry's created_by ("elfpack /usr/bin/curl"). */
  createdBy: string;
}

/**
 * The config document of an image: `config` as it is (no defaults are added here), the layers'
 * diff_ids (digests of their uncompressed tars, lowest first) and one history entry.
 */
export function configDocument(config: ImageConfig & { platform: Platform }, diffIds: string[], history: ConfigHistory): object {
  const c: Record<string, unknown> = {};
  if (config.user) c.User = config.user;
  if (config.ports.length) c.ExposedPorts = Object.fromEntries([...new Set(config.ports.map(normalizePort))].sort().map((p) => [p, {}]));
  c.Env = config.env;
  c.Entrypoint = config.entrypoint;
  if (config.cmd.length) c.Cmd = config.cmd;
  c.WorkingDir = config.workingDir;
  if (Object.keys(config.labels).length) c.Labels = Object.fromEntries(Object.entries(config.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const iso = history.created.toISOString().replace('.000Z', 'Z');
  const { platform } = config;
  return {
    created: iso,
    architecture: platform.architecture,
    ...(platform.variant ? { variant: platform.variant } : {}),
    os: platform.os,
    config: c,
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: [{ created: iso, created_by: history.createdBy, comment: 'elfpack' }],
  };
}
