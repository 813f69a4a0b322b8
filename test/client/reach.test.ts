// A Temporal address that cannot be used is reported in about two seconds, with the reason.
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { messageWithCauses, unreachableReason } from '../../src/client/reach';

async function listening<T extends http.Server | http2.Http2Server>(
  server: T,
): Promise<{ address: string; close: () => void }> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

describe('reaching Temporal', () => {
  it('names a refused port, an unresolvable name and a malformed address', async () => {
    const s = await listening(http.createServer());
    s.close(); // the port is free now: nothing listens there
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await unreachableReason(s.address), 'connection refused: nothing listens there');
    assert.equal(await unreachableReason('temporal.invalid:7233'), 'cannot resolve temporal.invalid');
    assert.match((await unreachableReason('localhost')) ?? '', /"localhost" is not host:port/);
  });

  it('tells a server that is not a gRPC frontend (an HTTP/1 server, such as the Web UI) from one that is', async () => {
    const web = await listening(http.createServer((_q, r) => r.end('ui')));
    try {
      assert.match(
        (await unreachableReason(web.address)) ?? '',
        /^something answers there, but not as a Temporal frontend \(gRPC over HTTP\/2: .+\); the frontend listens on 7233, the Web UI on 8233$/,
      );
    } finally {
      web.close();
    }
    const h2 = await listening(http2.createServer());
    try {
      assert.equal(await unreachableReason(h2.address), undefined);
    } finally {
      h2.close();
    }
  });

  it('keeps the causes of a wrapped error', () => {
    const e = new Error('Failed to describe workflow', { cause: new Error('14 UNAVAILABLE: Connection dropped') });
    assert.equal(messageWithCauses(e), 'Failed to describe workflow: 14 UNAVAILABLE: Connection dropped');
  });
});
