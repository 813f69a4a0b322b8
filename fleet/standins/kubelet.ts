// Stand-in kubelet: holds port 10250 on the node's address and answers /healthz. On an external etcd
// host it also runs the etcd static pod for real (staticpod.ts); other static pods are the API server
// stand-in's business.
import * as http from 'node:http';
import { hostEnv } from './env';
import { superviseEtcd } from './staticpod';

const e = hostEnv();
const etcd = e.role === 'etcd' ? superviseEtcd(e) : undefined;
process.on('SIGTERM', () => void (etcd?.stop() ?? Promise.resolve()).then(() => process.exit(0)));
http
  .createServer((req, res) => {
    res.writeHead(req.url === '/healthz' ? 200 : 404);
    res.end(req.url === '/healthz' ? 'ok' : 'not found');
  })
  .listen(10250, e.address, () => console.log(`kubelet stand-in for ${e.host} on ${e.address}:10250`));
