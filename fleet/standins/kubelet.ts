// Stand-in kubelet: holds port 10250 on the node's address and answers /healthz.
import * as http from 'node:http';
import { hostEnv } from './env';

const e = hostEnv();
process.on('SIGTERM', () => process.exit(0));
http
  .createServer((req, res) => {
    res.writeHead(req.url === '/healthz' ? 200 : 404);
    res.end(req.url === '/healthz' ? 'ok' : 'not found');
  })
  .listen(10250, e.address, () => console.log(`kubelet stand-in for ${e.host} on ${e.address}:10250`));
