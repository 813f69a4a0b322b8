// Identity of the host a stand-in runs on. The per-host wrapper in /usr/local/sbin exports these
// (sudo resets the environment, but the wrapper sets them after sudo).
import * as os from 'node:os';

function need(name: string): string {
  const v = process.env[name];
  if (!v) {
    process.stderr.write(`stand-in misconfigured: ${name} is not set (run it through the fleet's wrapper)\n`);
    process.exit(1);
  }
  return v;
}

export interface HostEnv {
  dir: string;
  host: string;
  address: string;
  /** The fleet's load balancer address. */
  lb: string;
  role: string;
  version: string;
  minor: number;
  discoveryTimeout: string;
}

let cached: HostEnv | undefined;
export function hostEnv(): HostEnv {
  if (cached) return cached;
  const version = need('FLEET_K8S_VERSION');
  cached = {
    dir: need('FLEET_DIR'),
    host: process.env.FLEET_HOST || os.hostname(),
    address: need('FLEET_ADDRESS'),
    lb: need('FLEET_LB'),
    role: process.env.FLEET_ROLE ?? '',
    version,
    minor: Number(version.split('.')[1]),
    discoveryTimeout: process.env.FLEET_DISCOVERY_TIMEOUT || '5m0s',
  };
  return cached;
}

/** Go-style duration ("5m0s", "1h", "90s", "500ms") to milliseconds; NaN when malformed. */
export function parseDuration(s: string): number {
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const n = Number(m[1]);
    total += m[2] === 'h' ? n * 3600e3 : m[2] === 'm' ? n * 60e3 : m[2] === 's' ? n * 1e3 : n;
    consumed += m[0].length;
  }
  return consumed === s.length && consumed > 0 ? total : NaN;
}

export function formatDuration(ms: number): string {
  const h = Math.floor(ms / 3600e3);
  const m = Math.floor((ms % 3600e3) / 60e3);
  const s = Math.round((ms % 60e3) / 1e3);
  return h ? `${h}h${m}m${s}s` : m ? `${m}m${s}s` : `${s}s`;
}
