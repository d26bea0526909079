// Image names and tags as the distribution spec's grammar has them (reference/regexp.go): what
// `--tag` takes and what the archive and the engine record.
import { ElfpackError } from '../errors.js';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:localhost|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+|[a-zA-Z0-9.-]+:\d+)$/;

/** "name:tag" → repository and tag, checked against the distribution spec's grammar. */
export function parseTag(ref: string): { repository: string; tag: string; full: string } {
  const slash = ref.lastIndexOf('/');
  const at = ref.lastIndexOf(':');
  const repository = at > slash ? ref.slice(0, at) : ref;
  const tag = at > slash ? ref.slice(at + 1) : 'latest';
  const parts = repository.split('/');
  if (parts.length > 1 && DOMAIN.test(parts[0])) parts.shift();
  if (!parts.every((c) => COMPONENT.test(c))) {
    throw new ElfpackError('USAGE', `bad image name "${ref}": want lowercase [REGISTRY/]NAME[:TAG], like myapp:1.0`);
  }
  if (!/^\w[\w.-]{0,127}$/.test(tag)) throw new ElfpackError('USAGE', `bad tag in "${ref}": letters, digits, "_", "." and "-", at most 128`);
  return { repository, tag, full: `${repository}:${tag}` };
}
