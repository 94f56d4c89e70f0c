// A minimal HTTP CONNECT proxy for tests: tunnels each CONNECT to its target and records the
// target and the Proxy-Authorization header, so a test sees that traffic really went through it.
// With `requireAuth`, a CONNECT without that Proxy-Authorization gets 407, as a squid with basic auth does;
// a test may change it while the proxy runs (the proxy's password changed).
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ConnectProxy {
  url: string;
  tunnels: Array<{ target: string; proxyAuthorization?: string }>;
  requireAuth?: string;
  stop(): Promise<void>;
}

export async function startConnectProxy(opts: { requireAuth?: string } = {}): Promise<ConnectProxy> {
  const tunnels: ConnectProxy['tunnels'] = [];
  const sockets = new Set<Socket>();
  const server = createServer((_req, res) => {
    res.writeHead(405).end('CONNECT only');
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    tunnels.push({ target, proxyAuthorization: req.headers['proxy-authorization'] });
    if (proxy.requireAuth !== undefined && req.headers['proxy-authorization'] !== proxy.requireAuth) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="proxy"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
    const upstream = connect(port, host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const proxy: ConnectProxy = {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    ...(opts.requireAuth !== undefined ? { requireAuth: opts.requireAuth } : {}),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  return proxy;
}
