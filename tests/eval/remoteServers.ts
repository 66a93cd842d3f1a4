// Test helpers: start the Python policy servers (the reference example and the
// fault-injecting fixture) on free loopback ports, read back the port each
// bound, stop them. python3 must be installed (bin/setup.sh installs it):
// a missing one fails the tests, it never skips them.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export const REFERENCE = 'examples/remote_policy_server.py';
export const FAULTY = 'tests/fixtures/faulty_policy_server.py';

const spawned = new Set<ChildProcess>();

/** Stops every server these helpers started (afterAll), ready or not. */
export async function stopAllPyServers(): Promise<void> {
  await Promise.all([...spawned].map((p) => new Promise<void>((r) => {
    if (p.exitCode !== null || p.signalCode !== null) return r();
    p.once('exit', () => r());
    p.kill('SIGTERM');
  })));
  spawned.clear();
}

export interface PyServer {
  port: number;
  server: string;
  url: string;
  proc: ChildProcess;
  stderr: () => string;
  /** Resolves with the exit code once the process is gone. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** `startMs`: how long to wait for its 'listening on' line (a --retry-bind stand-by waits for its port). */
export async function startPyServer(script: string, args: string[] = [], port = 0, startMs = 60_000): Promise<PyServer> {
  const proc = spawn('python3', [script, '--port', String(port), '--quiet', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  spawned.add(proc);
  let out = '', err = '';
  proc.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const bound = await new Promise<number>((resolve, reject) => {
    proc.on('error', (e) => reject(new Error(`python3 ${script}: ${e.message} (is python3 installed? bin/setup.sh installs it)`)));
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void exited.then((code) => reject(new Error(`python3 ${script} exited (${code}) before listening: ${err}`)));
    setTimeout(() => reject(new Error(`python3 ${script} did not start in ${startMs / 1000} s: ${err}`)), startMs);
  });
  return {
    port: bound, server: `127.0.0.1:${bound}`, url: `http://127.0.0.1:${bound}`, proc, stderr: () => err, exited,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A privileged state as tasks/privileged.ts sends it: the TCP above a cube, a bowl beside it. */
export const PRIVILEGED = {
  family: 'pick_place', tcp: { x: 0, y: 0, z: 0.16, yaw: 0 }, gap: 0.09, gripper_command: 0,
  object: { name: 'red cube', pos: [0.1, 0, 0.02], linvel: [0, 0, 0], grasped: false },
  target: { name: 'blue bowl', kind: 'bowl', pos: [-0.1, 0.05, 0] }, success: false,
};

/** An observation of the default cameras at 96 px (a gray scene), for RemoteClient.act. */
export function observation(gray = 100) {
  const frame = () => ({ width: 96, height: 96, data: new Uint8Array(96 * 96 * 3).fill(gray) });
  return { images: { scene: frame(), wrist: frame() }, proprio: Float32Array.from([0, 0, 0.16, 0, 0.09, 0]), instruction: 'put the red cube in the blue bowl' };
}
