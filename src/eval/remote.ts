// `eval --policy remote:HOST:PORT`: a policy server in another process or
// language (docs/remote-policy.md). Before any browser starts, the runner
// shakes hands with every server from Node, so one that cannot be reached or
// declares another spec (a gripper sign, units, a camera size, the control
// rate) stops the run with a message naming the field and nothing recorded.
// The handshake settles the label (the server's declared name) and the model
// identity stamped on every record (name@version), so resume and merge refuse
// to mix two models under one label as they do for checkpoints. The pages
// reach the server through their static server's same-origin proxy
// (runtime/proxy.ts) and shake hands again, as the episodes will run.
import { readFileSync } from 'node:fs';
import { DEFAULT_CAMERAS } from '../../sim/config.ts';
import type { RemotePolicySpec } from '../worker/protocol.ts';
import { RemoteClient } from '../worker/remoteClient.ts';
import { DEFAULT_REMOTE_TIMEOUT_MS, parseRemoteAddress, RemoteError, type ServerSpec } from '../worker/remoteSpec.ts';
import { SetupError, type PolicySpec } from './setup.ts';

/** How long a page retries the handshake of a server that went away (a supervisor restarting it) before the run stops. */
export const RECONNECT_MS = 10_000;

export interface RemoteTarget {
  /** "HOST:PORT" as given. */
  server: string;
  url: string;
}

export interface RemoteIdentity {
  target: RemoteTarget;
  spec: ServerSpec;
}

/** The server of "remote:HOST:PORT" (HOST may be [v6]); null for any other --policy. */
export function parseRemoteTarget(arg: string): RemoteTarget | null {
  if (!arg.startsWith('remote:')) return null;
  const a = parseRemoteAddress(arg.slice('remote:'.length));
  if (!a) throw new SetupError(`--policy ${arg}: expected remote:HOST:PORT with a port in 1..65535 (e.g. remote:127.0.0.1:8765)`);
  return { server: a.server, url: a.origin };
}

const version = (): string => (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Handshake with every remote:HOST:PORT among the --policy arguments (blind: ones too), keyed by that argument (without blind:). */
export async function handshakeRemotes(args: string[], o: { resolution: number; timeoutMs?: number }): Promise<Map<string, RemoteIdentity>> {
  const out = new Map<string, RemoteIdentity>();
  for (const arg of args) {
    const bare = arg.startsWith('blind:') ? arg.slice('blind:'.length) : arg;
    const target = parseRemoteTarget(bare);
    if (!target || out.has(bare)) continue;
    const client = new RemoteClient({ url: target.url, display: target.server, cameras: DEFAULT_CAMERAS.map((c) => c.name), resolution: o.resolution, version: version(), timeoutMs: o.timeoutMs });
    try {
      out.set(bare, { target, spec: await client.start() });
    } catch (e) {
      throw new SetupError(`--policy ${arg}: ${e instanceof RemoteError ? e.message : String(e)}`);
    } finally {
      await client.close();
    }
  }
  return out;
}

/** What a page needs to run spec's episodes: the proxy path, the server's name for messages, the model it must still be. */
export function remotePolicyArg(spec: PolicySpec, specIndex: number, o: { resolution: number; timeoutMs?: number }): RemotePolicySpec {
  return {
    remoteUrl: `/remote/${specIndex}`, server: spec.remote!.server, resolution: o.resolution, timeoutMs: o.timeoutMs ?? DEFAULT_REMOTE_TIMEOUT_MS, reconnectMs: RECONNECT_MS,
    expectModel: spec.remoteModel, ...(spec.chunkExecution ? { chunkExecution: spec.chunkExecution } : {}),
  };
}

/** Run metadata of the remote policies: who answered, with what, under which timeout. */
export function remoteMeta(specs: PolicySpec[], timeoutMs?: number): Record<string, unknown> | undefined {
  const rows = specs.filter((s) => s.remote).map((s) => {
    const r = s.remote!.spec;
    return [s.label, { server: s.remote!.server, model: r.model, backbone: r.backbone, chunkLength: r.chunkLength, privileged: r.privileged, cameras: r.cameras }];
  });
  return rows.length ? { timeoutMs: timeoutMs ?? DEFAULT_REMOTE_TIMEOUT_MS, policies: Object.fromEntries(rows) } : undefined;
}
