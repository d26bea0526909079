// What an image runs, read from its config: the OCI image-spec config blob (docker save and OCI
// layouts store the same shape) or the engine's image inspect. Only the fields that decide exec.
export interface ImagePlatform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface ImageRunConfig {
  entrypoint: string[];
  cmd: string[];
  /** KEY=VALUE, as the config lists them. */
  env: string[];
  /** Empty means "/". */
  workingDir: string;
  /** Empty means root. */
  user: string;
  platform?: ImagePlatform;
}

export const EMPTY_RUN_CONFIG: ImageRunConfig = { entrypoint: [], cmd: [], env: [], workingDir: '', user: '' };

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function runFields(c: Record<string, unknown> | undefined): Omit<ImageRunConfig, 'platform'> {
  return {
    entrypoint: strings(c?.Entrypoint),
    cmd: strings(c?.Cmd),
    env: strings(c?.Env),
    workingDir: str(c?.WorkingDir),
    user: str(c?.User),
  };
}

function platformOf(os: unknown, architecture: unknown, variant: unknown): ImagePlatform | undefined {
  if (typeof architecture !== 'string' || !architecture) return undefined;
  return { os: str(os) || 'linux', architecture, ...(typeof variant === 'string' && variant ? { variant } : {}) };
}

/** From an OCI / docker image config blob: {architecture, os, variant, config: {Entrypoint, …}}. */
export function runConfigFromBlob(blob: unknown): ImageRunConfig {
  const b = (blob ?? {}) as Record<string, unknown>;
  return { ...runFields(b.config as Record<string, unknown> | undefined), platform: platformOf(b.os, b.architecture, b.variant) };
}

/** From the engine's image inspect: {Architecture, Os, Variant, Config: {Entrypoint, …}}. */
export function runConfigFromInspect(inspect: unknown): ImageRunConfig {
  const b = (inspect ?? {}) as Record<string, unknown>;
  return { ...runFields(b.Config as Record<string, unknown> | undefined), platform: platformOf(b.Os, b.Architecture, b.Variant) };
}

/** "linux/arm/v7" */
export function platformName(p: ImagePlatform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** The value of PATH in a config's Env, if set. */
export function envValue(env: string[], key: string): string | undefined {
  for (let i = env.length - 1; i >= 0; i--) if (env[i].startsWith(`${key}=`)) return env[i].slice(key.length + 1);
  return undefined;
}
