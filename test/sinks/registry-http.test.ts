// The parts of the registry client's HTTP layer that are plain functions of their input:
// Retry-After (RFC 9110 §10.2.3) in both forms. The behaviour on the wire is in registry-faults.test.ts.
import { expect } from 'chai';
import { retryAfterMs } from '../../src/sinks/registry-http.js';

describe('sinks/registry-http', () => {
  const now = Date.parse('Tue, 02 Dec 2025 10:00:00 GMT');

  it('Retry-After in delay-seconds is that many seconds, 0 included', () => {
    expect([retryAfterMs('7', now), retryAfterMs(' 0 ', now), retryAfterMs('3600', now)]).to.deep.equal([7000, 0, 3_600_000]);
  });

  it('Retry-After as an HTTP date (IMF-fixdate, RFC 850, asctime) is the time until then, and a date already past is no wait', () => {
    expect(retryAfterMs('Tue, 02 Dec 2025 10:00:03 GMT', now)).to.equal(3000);
    expect(retryAfterMs('Tuesday, 02-Dec-25 10:00:04 GMT', now)).to.equal(4000);
    expect(retryAfterMs('Tue Dec  2 10:00:05 2025', now)).to.equal(5000);
    expect(retryAfterMs('Tue, 02 Dec 2025 09:59:00 GMT', now)).to.equal(0);
  });

  it('a missing or unreadable Retry-After is undefined (the backoff applies)', () => {
    expect([retryAfterMs(null, now), retryAfterMs('', now), retryAfterMs('-1', now), retryAfterMs('soon', now), retryAfterMs('1.5', now)]).to.deep.equal([undefined, undefined, undefined, undefined, undefined]);
  });
});
