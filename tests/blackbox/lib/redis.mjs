// redis.mjs — a private redis-server for a test (Debian's redis-server package): a temp dir, a
// free loopback port, no persistence (`--save '' --appendonly no`), stopped at the end. The
// handle can kill the server (SIGKILL, as a crash), pause it (SIGSTOP: a server that accepts
// connections but never answers) and start it again on the same port, and talk to it with a
// small RESP client (command()) to see what the server holds.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports.mjs';

export const REDIS_SERVER_BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server';

const running = new Set();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/** RESP encoding of one command. */
function encode(args) {
  let out = `*${args.length}\r\n`;
  for (const a of args) {
    const b = Buffer.from(String(a));
    out += `$${b.length}\r\n${b.toString('binary')}\r\n`;
  }
  return Buffer.from(out, 'binary');
}

/** Parses one RESP value at buf[i]; returns [value, next] or null when incomplete. */
function parse(buf, i = 0) {
  if (i >= buf.length) return null;
  const eol = buf.indexOf('\r\n', i);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[i]);
  const line = buf.toString('utf8', i + 1, eol);
  const next = eol + 2;
  if (type === '+') return [line, next];
  if (type === '-') return [new Error(line), next];
  if (type === ':') return [Number(line), next];
  if (type === '$') {
    const n = Number(line);
    if (n < 0) return [null, next];
    if (buf.length < next + n + 2) return null;
    return [buf.toString('utf8', next, next + n), next + n + 2];
  }
  if (type === '*') {
    const n = Number(line);
    if (n < 0) return [null, next];
    const out = [];
    let j = next;
    for (let k = 0; k < n; k++) {
      const r = parse(buf, j);
      if (r === null) return null;
      out.push(r[0]);
      j = r[1];
    }
    return [out, j];
  }
  throw new Error(`RESP: unexpected type ${type}`);
}

/** One command on a fresh connection; resolves the reply (an Error object for -ERR). */
export function redisCommand(port, args, { timeoutMs = 2000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`redis on ${port}: no answer to ${args[0]} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('connect', () => sock.write(encode(args)));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const r = parse(buf);
      if (r !== null) {
        clearTimeout(timer);
        sock.end();
        resolve(r[0]);
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/**
 * Subscribes to channel on its own connection; messages() returns the payloads received so
 * far, close() ends it. Resolves once the server confirmed the subscription.
 */
export function redisSubscribe(port, channel) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const got = [];
    let buf = Buffer.alloc(0);
    let confirmed = false;
    sock.on('connect', () => sock.write(encode(['SUBSCRIBE', channel])));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const r = parse(buf);
        if (r === null) break;
        buf = buf.subarray(r[1]);
        const [kind, , payload] = r[0];
        if (kind === 'subscribe' && !confirmed) {
          confirmed = true;
          resolve({ messages: () => [...got], close: () => sock.destroy() });
        } else if (kind === 'message') {
          got.push(payload);
        }
      }
    });
    sock.on('error', (e) => {
      if (!confirmed) reject(e);
    });
  });
}

/**
 * Starts redis-server. Returns {port, url, dir, command(args), kill(), pause(), resume(),
 * start(), stop()}: kill() is SIGKILL and waits for the exit; start() starts it again on the
 * same port (empty: nothing persisted); stop() ends it for good and removes the dir.
 */
export async function startRedis({ port } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'meetoa-redis-'));
  port = port ?? (await freePort());
  let proc = null;
  let output = '';

  async function launch() {
    output = '';
    proc = spawn(
      REDIS_SERVER_BIN,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const p = proc;
    running.add(p);
    p.once('exit', () => running.delete(p));
    p.stdout.setEncoding('utf8');
    p.stderr.setEncoding('utf8');
    p.stdout.on('data', (d) => (output += d));
    p.stderr.on('data', (d) => (output += d));
    const deadline = Date.now() + 10000;
    for (;;) {
      if (p.exitCode !== null) throw new Error(`redis-server exited (${p.exitCode}): ${output}`);
      try {
        if ((await redisCommand(port, ['PING'], { timeoutMs: 500 })) === 'PONG') return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`redis-server did not answer PING on ${port}: ${output}`);
      await sleep(50);
    }
  }

  function exited(p) {
    if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => p.once('exit', resolve));
  }

  await launch();
  const h = {
    port,
    dir,
    url: `redis://127.0.0.1:${port}`,
    logs: () => output,
    command: (args, opts) => redisCommand(port, args, opts),
    subscribe: (channel) => redisSubscribe(port, channel),
    async kill() {
      const p = proc;
      p.kill('SIGKILL');
      await exited(p);
    },
    pause: () => proc.kill('SIGSTOP'),
    resume: () => proc.kill('SIGCONT'),
    start: () => launch(),
    async stop() {
      if (proc !== null && proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGCONT');
        proc.kill('SIGKILL');
        await exited(proc);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}
