import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveHttp } from '../../src/deb/archive-http.js';
import { ElfpackError } from '../../src/errors.js';
import { refusal } from '../support/helpers.js';

describe('deb/archive-http', () => {
  const body = Buffer.from('x'.repeat(1000));
  const sha = createHash('sha256').update(body).digest('hex');
  let server: http.Server;
  let url: string;
  let dir: string;
  const h = new ArchiveHttp(300);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'elfpack-http-'));
    server = http.createServer((q, a) => {
      if (q.url === '/silent') return; // never answers
      if (q.url === '/trickle') {
        a.writeHead(200);
        a.write('abc'); // then nothing
        return;
      }
      if (q.url === '/moved') return a.writeHead(301, { location: '/file' }).end();
      a.writeHead(200).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await h.close();
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('follows a redirect and keeps a download whose size and SHA256 match', async () => {
    const dest = join(dir, 'ok');
    expect(await h.download(`${url}/moved`, dest, { maxBytes: 4096, size: 1000, sha256: sha })).to.equal(sha);
    expect(readFileSync(dest)).to.deep.equal(body);
  });

  it('a download whose SHA256 or size differs leaves nothing behind', async () => {
    const bad = await refusal(h.download(`${url}/file`, join(dir, 'bad'), { maxBytes: 4096, size: 1000, sha256: '0'.repeat(64) }));
    expect(bad.message).to.equal(`GET ${url}/file: SHA256 ${sha}, its index says ${'0'.repeat(64)}: refused (a tampered or stale file)`);
    const short = await refusal(h.download(`${url}/file`, join(dir, 'short'), { maxBytes: 4096, size: 999 }));
    expect(short.message).to.equal(`GET ${url}/file: more than the 999 bytes its index says: refused (a tampered or stale file)`);
    expect(readdirSync(dir).filter((n) => n !== 'ok')).to.deep.equal([]);
  });

  it('GETs in a row, redirects and errors among them, never wait for a connection (each is given back to the pool)', async () => {
    const t0 = Date.now();
    for (let i = 0; i < 12; i++) {
      expect((await h.getBytes(`${url}/moved`, 4096)).length).to.equal(1000);
      await refusal(h.getBytes(`${url}/file`, 10)); // refused, its body cut short
    }
    expect(Date.now() - t0).to.be.below(3000); // a held connection waits out the server's 5 s keep-alive
  });

  it('an answer past the size bound is refused', async () => {
    const err = await refusal(h.getBytes(`${url}/file`, 100));
    expect(err.message).to.equal(`GET ${url}/file: an answer larger than 100 bytes`);
  });

  it('no answer, or an answer that stops, within the deadline is DEB_UNREACHABLE', async () => {
    const silent = await refusal(h.getBytes(`${url}/silent`, 100));
    expect([silent.code, silent.message]).to.deep.equal(['DEB_UNREACHABLE', `GET ${url}/silent: no answer, no progress for 0.3 s`]);
    const trickle = await refusal(h.download(`${url}/trickle`, join(dir, 'trickle'), { maxBytes: 100 }));
    expect([trickle.code, trickle.message]).to.deep.equal(['DEB_UNREACHABLE', `GET ${url}/trickle: the answer started, then no progress for 0.3 s`]);
    expect(existsSync(join(dir, 'trickle'))).to.equal(false);
  });
});
