// The remote-policy protocol's declarations and checks (docs/remote-policy.md),
// free of DOM and Node imports: the page's RemoteClient and the eval runner's
// handshake in Node share them. Each side declares its observation and action
// spec; vlalab refuses any field the server declares otherwise, naming it
// (allenai's vla-evaluation-harness checks specs at handshake the same way:
// gripper sign and action normalisation are the mismatches that otherwise pass
// silently). Replies are checked as strictly: a malformed, non-finite,
// wrongly shaped or out-of-bounds action is a named error, never clipped.
import { ACTION_HIGH, ACTION_LOW, ACTION_NAMES, CONTROL_HZ, PROPRIO_NAMES } from '../../sim/config.ts';

export const PROTOCOL = 'vlalab-remote-policy';
export const PROTOCOL_VERSION = 1;
/** Largest reply body read (a 64-step chunk of 6 floats is ~10 KB of JSON). */
export const MAX_REPLY_BYTES = 256 * 1024;
export const MAX_CHUNK_LENGTH = 64;
export const DEFAULT_REMOTE_TIMEOUT_MS = 5000;

/** What went wrong with a remote policy; the eval records it as failure kind 'remote'. */
export type RemoteErrorKind = 'unreachable' | 'timeout' | 'http' | 'malformed' | 'oversized' | 'nan' | 'shape' | 'bounds' | 'handshake';

export class RemoteError extends Error {
  constructor(readonly kind: RemoteErrorKind, message: string) {
    super(`${kind}: ${message}`);
    this.name = 'RemoteError';
  }
}

/**
 * A policy server's address, "HOST:PORT" (HOST a name, IPv4 or [IPv6]), as
 * its display form and http origin; null when it is not one. eval's
 * remote:HOST:PORT, the demo's address box and the page proxy share it.
 */
export function parseRemoteAddress(addr: string): { server: string; origin: string } | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) return null;
  return { server: `${m[1]}:${port}`, origin: `http://${m[1]}:${port}` };
}

const round = (x: number) => Number(x.toPrecision(7)); // float32 bounds without their binary tails
const UNITS_ACTION = ['m', 'm', 'm', 'rad', '1', '1'];
const UNITS_PROPRIO = ['m', 'm', 'm', 'rad', 'm', '1'];

/** vlalab's declaration, sent in the handshake (and what a server's is checked against). */
export function clientDeclaration(o: { cameras: string[]; resolution: number; version: string }) {
  const image = { shape: [o.resolution, o.resolution, 3], dtype: 'uint8', encoding: 'base64', layout: 'HWC', color: 'RGB' };
  return {
    protocol: PROTOCOL, protocol_version: PROTOCOL_VERSION, client: { name: 'vlalab', version: o.version },
    control_hz: CONTROL_HZ,
    observation: {
      images: Object.fromEntries(o.cameras.map((c) => [c, image])),
      proprio: { names: [...PROPRIO_NAMES], shape: [PROPRIO_NAMES.length], dtype: 'float32', units: UNITS_PROPRIO },
      instruction: { dtype: 'string' },
      privileged: { description: 'tasks/privileged.ts: TCP, gripper, the object and its target from physics (scripted policies only)' },
    },
    action: {
      names: [...ACTION_NAMES], shape: [ACTION_NAMES.length], dtype: 'float32',
      low: Array.from(ACTION_LOW, round), high: Array.from(ACTION_HIGH, round), units: UNITS_ACTION,
      frame: 'world', mode: 'delta', normalization: 'none',
      gripper: { index: ACTION_NAMES.indexOf('gripper'), open: 0, closed: 1 },
      terminate: { index: ACTION_NAMES.indexOf('terminate'), threshold: 0.5 },
      max_chunk_length: MAX_CHUNK_LENGTH,
    },
  };
}
export type ClientDeclaration = ReturnType<typeof clientDeclaration>;

/** What a server's handshake reply settles. */
export interface ServerSpec {
  name: string;
  version: string;
  /** "name@version": the model identity stamped on every record (eval/fingerprint.ts). */
  model: string;
  backbone?: string;
  params?: number;
  chunkLength: number;
  /** The server's preferred chunk execution (policies/chunkExecution.ts CLI form), if it declares one. */
  chunkExecution?: string;
  cameras: string[];
  proprio: boolean;
  instruction: boolean;
  privileged: boolean;
}

const json = (v: unknown) => (JSON.stringify(v) ?? 'nothing').slice(0, 120);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const refuse = (msg: string): never => { throw new RemoteError('handshake', msg); };

/** Equal as declarations: numbers to float32 precision, arrays and objects field by field; the first difference's path, or null. */
function differs(path: string, s: unknown, m: unknown): string | null {
  if (typeof m === 'number') return typeof s === 'number' && Math.abs(s - m) <= 1e-6 * Math.max(1, Math.abs(m)) ? null : path;
  if (Array.isArray(m)) {
    if (!Array.isArray(s) || s.length !== m.length) return path;
    for (let i = 0; i < m.length; i++) { const d = differs(`${path}[${i}]`, s[i], m[i]); if (d) return d; }
    return null;
  }
  if (isObj(m)) {
    if (!isObj(s)) return path;
    for (const k of Object.keys(m)) { const d = differs(`${path}.${k}`, s[k], m[k]); if (d) return d; }
    return null;
  }
  return s === m ? null : path;
}

const at = (v: unknown, path: string) => path.split(/\.|\[(\d+)\]/).filter(Boolean).reduce<unknown>((x, k) => (isObj(x) || Array.isArray(x) ? (x as Record<string, unknown>)[k] : undefined), v);

/** Check `decl[key]` against `mine[key]` for the server's fields: required ones must be there, every one must match, unknown ones are refused. */
function checkEntry(where: string, decl: unknown, mine: Record<string, unknown>, required: string[], extra: string[] = []): Record<string, unknown> {
  if (!isObj(decl)) return refuse(`${where} must be an object, got ${json(decl)}`);
  for (const k of required) if (!(k in decl)) refuse(`the server does not declare ${where}.${k} (vlalab's is ${json(mine[k])})`);
  for (const [k, v] of Object.entries(decl)) {
    if (k === 'description' || extra.includes(k)) continue;
    if (!(k in mine)) refuse(`${where}.${k}: vlalab has no such field (it declares ${Object.keys(mine).join(', ')})`);
    const d = differs(`${where}.${k}`, v, mine[k]);
    if (d) refuse(`${d}: the server declares ${json(at(decl, d.slice(where.length)))}, vlalab ${json(at(mine, d.slice(where.length)))}`);
  }
  return decl;
}

/** The server's handshake reply checked against vlalab's declaration; throws RemoteError('handshake') naming the first field that differs. */
export function checkServerDeclaration(reply: unknown, mine: ClientDeclaration): ServerSpec {
  if (!isObj(reply)) return refuse(`the reply must be a JSON object, got ${json(reply)}`);
  if (reply.protocol !== PROTOCOL) refuse(`protocol: the server declares ${json(reply.protocol)}, vlalab "${PROTOCOL}"`);
  if (reply.protocol_version !== PROTOCOL_VERSION) refuse(`protocol_version: the server declares ${json(reply.protocol_version)}, vlalab ${PROTOCOL_VERSION}`);
  const p = reply.policy;
  if (!isObj(p)) return refuse('the server does not declare policy (its name and version: the model identity of its records)');
  if (typeof p.name !== 'string' || !/^[A-Za-z0-9][\w.-]{0,63}$/.test(p.name)) refuse(`policy.name must be 1-64 letters, digits, "_", "-" or "." (it labels the policy's records), got ${json(p.name)}`);
  if (typeof p.version !== 'string' || !p.version || p.version.length > 64) refuse(`policy.version must be a non-empty string of at most 64 characters, got ${json(p.version)}`);
  if (p.backbone !== undefined && typeof p.backbone !== 'string') refuse(`policy.backbone must be a string, got ${json(p.backbone)}`);
  if (p.params !== undefined && !(typeof p.params === 'number' && Number.isInteger(p.params) && p.params >= 0)) refuse(`policy.params must be a non-negative integer, got ${json(p.params)}`);
  if (!('control_hz' in reply)) refuse(`the server does not declare control_hz (vlalab's is ${CONTROL_HZ})`);
  if (differs('control_hz', reply.control_hz, mine.control_hz)) refuse(`control_hz: the server declares ${json(reply.control_hz)}, vlalab ${CONTROL_HZ}`);

  const a = checkEntry('action', reply.action, mine.action, ['names', 'shape', 'dtype', 'low', 'high', 'units', 'gripper'], ['chunk_length', 'chunk_execution', 'max_chunk_length']);
  const K = a.chunk_length ?? 1;
  if (!(typeof K === 'number' && Number.isInteger(K) && K >= 1 && K <= MAX_CHUNK_LENGTH)) refuse(`action.chunk_length must be an integer in [1, ${MAX_CHUNK_LENGTH}], got ${json(K)}`);
  if (a.chunk_execution !== undefined && typeof a.chunk_execution !== 'string') refuse(`action.chunk_execution must be a string such as "open_loop", got ${json(a.chunk_execution)}`);

  const obs = reply.observation;
  if (!isObj(obs)) return refuse(`the server does not declare observation (the inputs it wants among ${Object.keys(mine.observation).join(', ')})`);
  for (const k of Object.keys(obs)) if (!(k in mine.observation)) refuse(`observation.${k}: vlalab has no such observation (it has ${Object.keys(mine.observation).join(', ')})`);
  const cameras: string[] = [];
  if (obs.images !== undefined) {
    if (!isObj(obs.images)) refuse(`observation.images must map camera names to specs, got ${json(obs.images)}`);
    for (const [cam, spec] of Object.entries(obs.images as Record<string, unknown>)) {
      const m = (mine.observation.images as Record<string, Record<string, unknown>>)[cam];
      if (!m) refuse(`observation.images.${cam}: vlalab has no camera "${cam}" (it has ${Object.keys(mine.observation.images).join(', ')})`);
      checkEntry(`observation.images.${cam}`, spec, m, ['shape', 'dtype']);
      cameras.push(cam);
    }
  }
  if (obs.proprio !== undefined) checkEntry('observation.proprio', obs.proprio, mine.observation.proprio, ['names', 'shape', 'dtype', 'units']);
  if (obs.instruction !== undefined) checkEntry('observation.instruction', obs.instruction, mine.observation.instruction, ['dtype']);
  if (obs.privileged !== undefined && !isObj(obs.privileged)) refuse(`observation.privileged must be an object ({} asks for it), got ${json(obs.privileged)}`);
  return {
    name: p.name as string, version: p.version as string, model: `${p.name}@${p.version}`,
    ...(p.backbone !== undefined ? { backbone: p.backbone as string } : {}), ...(p.params !== undefined ? { params: p.params as number } : {}),
    chunkLength: K as number, ...(a.chunk_execution !== undefined ? { chunkExecution: a.chunk_execution as string } : {}),
    cameras, proprio: obs.proprio !== undefined, instruction: obs.instruction !== undefined, privileged: obs.privileged !== undefined,
  };
}

/** JSON.parse that names what is wrong (NaN and Infinity are not JSON; Python's json.dumps writes them unless allow_nan=False). */
export function parseReplyJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const bad = /(?<![\w"])(-?Infinity|NaN)(?![\w"])/.exec(text);
    if (bad) throw new RemoteError('nan', `the ${what} holds ${bad[1]} (not a finite number; JSON has no NaN or Infinity)`);
    throw new RemoteError('malformed', `the ${what} is not JSON (${(e as Error).message.slice(0, 80)}): ${json(text.slice(0, 80))}`);
  }
}

/** An /act reply: `actions` [chunk_length][6] of finite numbers within the bounds, `compute_ms` >= 0. */
export function checkActReply(v: unknown, chunkLength: number): { actions: Float32Array[]; computeMs: number } {
  if (!isObj(v)) throw new RemoteError('malformed', `the act reply must be a JSON object, got ${json(v)}`);
  const acts = v.actions;
  if (!Array.isArray(acts)) throw new RemoteError('malformed', `the act reply has no "actions" array (got ${json(acts)})`);
  if (acts.length !== chunkLength) throw new RemoteError('shape', `reply.actions holds ${acts.length} actions; the handshake declared chunk_length ${chunkLength}`);
  const D = ACTION_NAMES.length;
  const out = acts.map((row, t) => {
    if (!Array.isArray(row) || row.length !== D) throw new RemoteError('shape', `reply.actions[${t}] must be ${D} numbers (${ACTION_NAMES.join(', ')}), got ${json(row)}`);
    row.forEach((x, i) => {
      const name = `reply.actions[${t}][${i}] (${ACTION_NAMES[i]})`;
      if (typeof x !== 'number') throw new RemoteError(x === null ? 'nan' : 'malformed', `${name} is ${json(x)}, not a number${x === null ? ' (JSON.stringify writes NaN as null)' : ''}`);
      const slack = 1e-6 * (ACTION_HIGH[i] - ACTION_LOW[i]);
      if (x < ACTION_LOW[i] - slack || x > ACTION_HIGH[i] + slack) {
        throw new RemoteError('bounds', `${name} = ${x} is outside the declared bounds [${round(ACTION_LOW[i])}, ${round(ACTION_HIGH[i])}]; vlalab clips nothing silently (check units and normalisation)`);
      }
    });
    return Float32Array.from(row as number[]);
  });
  const c = v.compute_ms;
  if (typeof c !== 'number' || !Number.isFinite(c) || c < 0) throw new RemoteError('malformed', `reply.compute_ms must be the server's own compute time in ms (a number >= 0), got ${json(c)}`);
  return { actions: out, computeMs: c };
}
