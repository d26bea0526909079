// tar-stream, loaded when a tar is first read rather than when the modules that read tars load:
// a run that reads none (`elfpack deb` with its root saved in the cache, ldd on the host) does
// not pay its 10 ms of loading.
type TarStream = typeof import('tar-stream');

let loaded: Promise<TarStream> | undefined;

export function loadTarStream(): Promise<TarStream> {
  return (loaded ??= import('tar-stream'));
}
