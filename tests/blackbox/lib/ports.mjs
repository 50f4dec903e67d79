// ports.mjs — a TCP port on 127.0.0.1 for a server a test starts (nginx, Prometheus,
// redis-server, an upstream): the kernel picks a free one, which is released at once for the
// server to bind. Only node built-ins.
import net from 'node:net';

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
