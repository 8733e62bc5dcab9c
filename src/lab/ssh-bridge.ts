// The wire between a `lab ssh` session's network namespace and the lab: a
// process can only listen inside a namespace from inside it, and a Unix socket
// on the filesystem is reachable from every network namespace. So the session's
// init listens on TCP inside (127.0.0.1:2379, a replica's IP:443 ...) and pipes
// each connection to a Unix socket, which the `lab ssh` process serves by
// connecting to the real address outside. One mapping per address; nothing
// else is reachable inside. Every connection is bounded: a connect deadline,
// and a cap on how many are open at once.
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

export interface Endpoint {
  host: string;
  port: number;
}

/** One address reachable inside the session, and where it leads outside. */
export interface Mapping {
  /** Where the session's processes connect (inside the namespace). */
  inside: Endpoint;
  /** The lab address it reaches (outside). */
  outside: Endpoint;
  /** The Unix socket between the two. */
  socket: string;
}

/** Connections one mapping keeps open at once; more are refused (closed at once). */
export const MAX_CONNECTIONS = 256;
/** How long a connection to the lab side may take to open. */
export const CONNECT_TIMEOUT_MS = 5000;

/** Pipes two sockets both ways; either one's end or error ends both. */
export function splice(a: Socket, b: Socket): void {
  const end = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', end);
  b.on('error', end);
  a.on('close', end);
  b.on('close', end);
  a.pipe(b);
  b.pipe(a);
}

/** The sockets each server has open, so that closing it ends them too. */
const openSockets = new WeakMap<Server, Set<Socket>>();

function bounded(server: Server, open: (client: Socket) => Socket): Server {
  server.maxConnections = MAX_CONNECTIONS;
  const sockets = new Set<Socket>();
  openSockets.set(server, sockets);
  server.on('connection', (client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.pause();
    const upstream = open(client);
    upstream.setTimeout(CONNECT_TIMEOUT_MS, () => {
      if (upstream.connecting) upstream.destroy(new Error('connect timed out'));
    });
    sockets.add(upstream);
    upstream.once('close', () => sockets.delete(upstream));
    upstream.once('connect', () => {
      upstream.setTimeout(0);
      client.resume();
    });
    splice(client, upstream);
  });
  return server;
}

function listening(server: Server, listen: (done: () => void) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    listen(() => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** Lab side: the Unix socket `path`, each connection piped to `to` (TCP, outside). */
export function serveUnixToTcp(path: string, to: Endpoint): Promise<Server> {
  const server = bounded(createServer(), () => tcpConnect({ host: to.host, port: to.port }));
  return listening(server, (done) => server.listen(path, done));
}

/** Session side: TCP `at` (inside the namespace), each connection piped to the Unix socket `path`. */
export function serveTcpToUnix(at: Endpoint, path: string): Promise<Server> {
  const server = bounded(createServer(), () => tcpConnect({ path }));
  return listening(server, (done) => server.listen({ host: at.host, port: at.port, exclusive: true }, done));
}

/** Stops listening and ends the connections it has open. */
export function closeServer(server: Server): Promise<void> {
  const done = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const s of openSockets.get(server) ?? []) s.destroy();
  return done;
}
