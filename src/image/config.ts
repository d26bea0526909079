// The OCI image configuration (image-spec config.md): platform from the ELF header, the run
// settings the user chose, and the layers' diff_ids. Keys are written in a fixed order so the same
// inputs give the same bytes, hence the same digest.
import { ElfpackError } from '../errors.js';
import type { MachineInfo } from '../elf/machines.js';

/** Docker's default PATH: what a FROM-scratch container gets when the image sets none. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface Platform {
  os: 'linux';
  architecture: string;
  variant?: string;
}

export interface RunSettings {
  entrypoint: string[];
  cmd?: string[];
  /** "K=V" strings; PATH is added unless given. */
  env?: string[];
  user?: string;
  workdir?: string;
  /** "8080", "53/udp". */
  ports?: string[];
  labels?: Record<string, string>;
}

export function platformOf(m: MachineInfo): Platform {
  return m.ociVariant ? { os: 'linux', architecture: m.ociArch, variant: m.ociVariant } : { os: 'linux', architecture: m.ociArch };
}

/** "8080" → "8080/tcp"; the protocol is checked. */
export function normalizePort(p: string): string {
  const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(p.trim());
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new ElfpackError('USAGE', `bad port "${p}": want N or N/tcp, N/udp, N/sctp with 1 ≤ N ≤ 65535`);
  return `${Number(m[1])}/${m[2] ?? 'tcp'}`;
}

export function buildConfig(platform: Platform, run: RunSettings, diffIds: string[], created: Date, createdBy: string): object {
  const env = [...(run.env ?? [])];
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(`PATH=${DEFAULT_PATH}`);
  const config: Record<string, unknown> = {};
  if (run.user) config.User = run.user;
  if (run.ports?.length) config.ExposedPorts = Object.fromEntries([...new Set(run.ports.map(normalizePort))].sort().map((p) => [p, {}]));
  config.Env = env;
  config.Entrypoint = run.entrypoint;
  if (run.cmd?.length) config.Cmd = run.cmd;
  config.WorkingDir = run.workdir ?? '/';
  if (run.labels && Object.keys(run.labels).length) config.Labels = Object.fromEntries(Object.entries(run.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const iso = created.toISOString().replace('.000Z', 'Z');
  return {
    created: iso,
    architecture: platform.architecture,
    ...(platform.variant ? { variant: platform.variant } : {}),
    os: platform.os,
    config,
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: [{ created: iso, created_by: createdBy, comment: 'elfpack' }],
  };
}
