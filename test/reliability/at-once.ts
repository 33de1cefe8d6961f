/**
 * Requests that reach a server all at once, whatever the load on the machine: the server is
 * stopped (SIGSTOP) while they are sent, and continued once the kernel holds every one of them.
 */
import { readFileSync } from 'node:fs';
import { sleep } from './serve.js';

const TCP_ESTABLISHED = '01';

/**
 * Established sockets whose local end is 127.0.0.1:`port` (the server's side of its connections,
 * accepted or still in the listen backlog) with bytes the server has not read, from /proc/net/tcp.
 */
export function connectionsWithUnreadBytes(port: number): number {
  let count = 0;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const [local, state, queues] = [fields[1], fields[3], fields[4]];
    if (local === undefined || state !== TCP_ESTABLISHED || queues === undefined) continue;
    const localPort = parseInt(local.slice(local.indexOf(':') + 1), 16);
    const unread = parseInt(queues.slice(queues.indexOf(':') + 1), 16);
    if (localPort === port && unread > 0) count++;
  }
  return count;
}

/**
 * Stops the server `pid`, starts `send` (requests on fresh or idle connections), waits until at
 * least `connections` connections to `port` hold unread bytes, and continues the server; then
 * resolves, with the answers of `send` still to come. Throws if that many never arrive within
 * `timeoutMs` (the server is continued all the same).
 */
export async function deliverAtOnce<T>(
  pid: number,
  port: number,
  connections: number,
  send: () => Promise<T>,
  timeoutMs: number,
): Promise<{ readonly answers: Promise<T> }> {
  process.kill(pid, 'SIGSTOP');
  try {
    const answers = send();
    const deadline = Date.now() + timeoutMs;
    let arrived = connectionsWithUnreadBytes(port);
    while (arrived < connections && Date.now() < deadline) {
      await sleep(20);
      arrived = connectionsWithUnreadBytes(port);
    }
    if (arrived < connections) {
      answers.catch(() => undefined);
      throw new Error(`only ${arrived} of ${connections} connections to port ${port} delivered within ${timeoutMs} ms`);
    }
    return { answers };
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}
