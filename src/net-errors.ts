// What a failed network call was, in words: shared by the registry client (sinks/) and the Debian
// archive client (deb/), which sit on different sides of the pipeline.

/** The innermost cause: fetch wraps the socket's error, and send() wraps fetch's. */
export function rootCause(err: unknown): { code?: string; message?: string } {
  let e = err as { cause?: unknown; code?: string; message?: string };
  for (let i = 0; i < 8 && e?.cause; i++) e = e.cause as typeof e;
  return e ?? {};
}

export function isCertificateError(err: unknown): boolean {
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(rootCause(err).code ?? '');
}

/** TLS sent to a server speaking plain HTTP: it answers the handshake with an HTTP error. */
export function isPlainHttpServer(err: unknown): boolean {
  return /WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST/.test(rootCause(err).code ?? '');
}

export function describeNetError(err: unknown): string {
  const c = rootCause(err);
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    EPIPE: 'connection closed while sending',
    UND_ERR_SOCKET: 'connection closed before the answer',
    ENOTFOUND: 'no such host',
    EAI_AGAIN: 'host name lookup failed',
  };
  return c.code ? (words[c.code] ? `${words[c.code]} (${c.code})` : c.code) : c.message ?? String(err);
}
