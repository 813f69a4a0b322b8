// The dev server as the tests and benchmarks start it: `temporal server start-dev` on loopback with
// kubeadm-ha's search attributes, headless unless Web UI flags are given.
import { createServer } from 'node:net';
import { SEARCH_ATTRIBUTES } from '../src/shared/definitions';

/** The Temporal CLI's arguments. `dbFile` '' keeps everything in memory; `ui`: the Web UI's flags (else headless). */
export function devServerArgv(port: number, dbFile: string, ui?: string[]): string[] {
  return [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    ...(ui ?? ['--headless']),
    '--db-filename',
    dbFile,
    '--log-level',
    'error',
    ...SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=Keyword`]),
  ];
}

/** A TCP port free on 127.0.0.1 now (the kernel's pick; a port for a server about to start). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}
