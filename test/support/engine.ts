// The real parts an image test checks against: the Docker engine (load, run with --network none),
// skopeo (docker-archive: and oci-archive:), umoci (unpack of the OCI layout), podman (load).
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveCommand, skipOrFail } from './helpers.js';

let engineUp: boolean | undefined;

export function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, timeout: 300_000, ...opts });
  return { status: r.status ?? -1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? r.error?.message ?? '') };
}

function must(cmd: string, args: string[], opts: SpawnSyncOptions = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Skips (fails in CI) unless the Docker engine answers. */
export function needEngine(ctx: Mocha.Context): void {
  if (!haveCommand('docker')) skipOrFail(ctx, 'docker is not installed');
  engineUp ??= run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 20_000 }).status === 0;
  if (!engineUp) skipOrFail(ctx, 'the Docker engine is not running (make test starts it as root)');
}

export function needImageTools(ctx: Mocha.Context): void {
  for (const c of ['skopeo', 'umoci', 'podman']) if (!haveCommand(c)) skipOrFail(ctx, `${c} is not installed`);
}

/** docker load; returns the tag it reported. */
export function dockerLoad(tar: string): string {
  const out = must('docker', ['load', '-i', tar]);
  const m = /Loaded image: (\S+)/.exec(out);
  if (!m) throw new Error(`docker load said: ${out}`);
  return m[1];
}

/** Runs an image with no network and no pulls; returns exit status and output. */
export function dockerRun(image: string, args: string[] = [], opts: { input?: string | Buffer; flags?: string[] } = {}) {
  const r = spawnSync('docker', ['run', '--rm', '--network', 'none', '--pull', 'never', ...(opts.input !== undefined ? ['-i'] : []), ...(opts.flags ?? []), image, ...args], {
    input: opts.input, maxBuffer: 64 << 20, timeout: 120_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout ?? Buffer.alloc(0), stderr: String(r.stderr ?? '') };
}

export function dockerRmi(image: string): void {
  run('docker', ['rmi', '-f', image]);
}

/** skopeo's view of the tar through a transport ("docker-archive" or "oci-archive"). */
export function skopeoInspect(transport: 'docker-archive' | 'oci-archive', tar: string, raw = false): any {
  return JSON.parse(must('skopeo', ['inspect', ...(raw ? ['--raw'] : []), `${transport}:${tar}`]));
}

/** Unpacks the tar's OCI layout with umoci; returns the unpacked rootfs listing (paths). */
export function umociUnpack(tar: string, ref = 'latest'): { bundle: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'elfpack-umoci-'));
  must('tar', ['-C', dir, '-xf', tar]);
  pointAtImage(dir, ref);
  must('umoci', ['unpack', '--image', `${dir}:${ref}`, join(dir, 'bundle')]);
  return { bundle: join(dir, 'bundle'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * umoci 0.4.7 refuses a tag naming an index of more than one manifest ("tag is ambiguous"), as
 * buildx's own images with attestations are: the layout's index.json is pointed at the image
 * (the index's first entry whose platform is not unknown/unknown), which umoci then unpacks.
 */
function pointAtImage(dir: string, ref: string): void {
  const indexJson = join(dir, 'index.json');
  const top = JSON.parse(readFileSync(indexJson, 'utf8')).manifests[0];
  if (top?.mediaType !== 'application/vnd.oci.image.index.v1+json') return;
  const inner = JSON.parse(readFileSync(join(dir, 'blobs/sha256', top.digest.slice(7)), 'utf8')).manifests;
  if (inner.length < 2) return;
  const image = inner.find((m: any) => m.platform?.os !== 'unknown');
  writeFileSync(indexJson, JSON.stringify({ schemaVersion: 2, manifests: [{ ...image, annotations: { 'org.opencontainers.image.ref.name': ref } }] }));
}

/**
 * Every check an image test makes of a tar: skopeo reads it through both transports with the same
 * layers and platform, umoci unpacks its OCI layout, the engine loads it. Returns the loaded tag.
 */
export function validateImage(tar: string, tag: string, arch = 'amd64'): string {
  const viaDocker = skopeoInspect('docker-archive', tar);
  const viaOci = skopeoInspect('oci-archive', tar);
  if (viaDocker.Architecture !== arch || viaOci.Architecture !== arch) throw new Error(`architecture: ${viaDocker.Architecture} / ${viaOci.Architecture}, want ${arch}`);
  // docker-archive names each layer by its diff_id (the uncompressed tar's digest), oci-archive by
  // its blob's digest: the same with --compression none, the config's diff_ids otherwise.
  const diffIds = (JSON.parse(must('skopeo', ['inspect', '--config', `oci-archive:${tar}`])) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
  if (JSON.stringify(viaDocker.Layers) !== JSON.stringify(diffIds)) throw new Error(`skopeo docker-archive: sees layers ${JSON.stringify(viaDocker.Layers)}, the config's diff_ids are ${JSON.stringify(diffIds)}`);
  if (viaOci.Layers.length !== diffIds.length) throw new Error('skopeo sees a different number of layers through the two transports');
  const u = umociUnpack(tar, tag.slice(tag.lastIndexOf(':') + 1));
  u.cleanup();
  // podman loads it too (it names a bare "name:tag" localhost/name:tag); its own store, removed after.
  const p = must('podman', ['load', '-i', tar]);
  if (!p.includes(`Loaded image: localhost/${tag}`) && !p.includes(`Loaded image: ${tag}`)) throw new Error(`podman load said: ${p}`);
  run('podman', ['rmi', '-f', `localhost/${tag}`]);
  return dockerLoad(tar);
}
