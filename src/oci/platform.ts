// The platform an image runs on (image-spec image-index.md "platform", config.md architecture/os/
// variant): one type for what elfpack writes (from the ELF header) and what it reads from images.
import { ElfpackError } from '../errors.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** The platform of an ELF machine (elf/machines.ts MachineInfo): always Linux. */
export function platformOf(m: { ociArch: string; ociVariant?: string }): Platform {
  return m.ociVariant ? { os: 'linux', architecture: m.ociArch, variant: m.ociVariant } : { os: 'linux', architecture: m.ociArch };
}

/** "linux/arm/v7" */
export function platformName(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** A platform from the fields of a config or a descriptor; undefined without an architecture. Os defaults to linux. */
export function platformFromFields(os: unknown, architecture: unknown, variant: unknown): Platform | undefined {
  if (typeof architecture !== 'string' || !architecture) return undefined;
  return { os: typeof os === 'string' && os ? os : 'linux', architecture, ...(typeof variant === 'string' && variant ? { variant } : {}) };
}

/** "linux/arm64", "arm64" (Linux), "linux/arm/v7": a platform given on the command line. */
export function parsePlatform(s: string): Platform {
  const parts = s.split('/');
  if (parts.length === 1 && parts[0]) return { os: 'linux', architecture: parts[0] };
  if (parts.length >= 2 && parts.length <= 3 && parts.every(Boolean)) return { os: parts[0], architecture: parts[1], ...(parts[2] ? { variant: parts[2] } : {}) };
  throw new ElfpackError('USAGE', `--platform ${s}: want OS/ARCH[/VARIANT], e.g. linux/arm64`);
}
