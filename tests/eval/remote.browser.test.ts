// Issue 23, any policy over the wire, end to end in headless Chromium: the
// Python reference server evaluated through the eval runner writes the same
// records, summary, CSV and report as a checkpoint (its port of the scripted
// expert takes the in-page expert's episodes step for step, so actions,
// units and gripper convention survive the wire); resume keeps its model
// identity; a late, NaN or dying server fails only its own episode, named, and
// the run goes on (a stand-by takes over the port, as a supervisor would).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRecords, type EpisodeRecord } from '../../src/eval/records.ts';
import { runEval } from '../../src/eval/runner.ts';
import { FAULTY, REFERENCE, startPyServer, stopAllPyServers, type PyServer } from './remoteServers.ts';

const dir = mkdtempSync(join(tmpdir(), 'vlalab-remote-e2e-'));
afterAll(async () => {
  await stopAllPyServers();
  rmSync(dir, { recursive: true, force: true });
});
async function py(script: string, args: string[] = [], port = 0): Promise<PyServer> {
  return startPyServer(script, args, port);
}
const byEpisode = (rs: EpisodeRecord[], policy: string) => rs.filter((r) => r.policy === policy).map((r) => `${r.task}-${r.seed}: ${r.success} in ${r.steps}`).sort();

describe('eval --policy remote:HOST:PORT (headless Chromium)', () => {
  it('evaluates the Python reference server like a checkpoint: records, summary, CSV, report, resume identity', async () => {
    const ref = await py(REFERENCE);
    const out = join(dir, 'e2e');
    const opts = { policies: [`remote:${ref.server}`], suite: 'tabletop', split: 'heldout_layout', episodes: 2, out, quiet: true };
    const r = await runEval(opts);
    expect(r.records.map((x) => x.policy).sort()).toEqual(['expert', 'expert', 'scripted-py', 'scripted-py', 'scripted-py+blind', 'scripted-py+blind']);
    const expert = r.records.find((x) => x.policy === 'expert')!;
    for (const rec of r.records.filter((x) => x.policy !== 'expert')) {
      // a checkpoint's record, with the server's model identity where a checkpoint has its hash
      expect(Object.keys(rec).sort()).toEqual([...Object.keys(expert), 'remoteModel'].sort());
      expect(rec).toMatchObject({ remoteModel: 'scripted-py@1.0', backbone: 'scripted (privileged state)', backend: 'remote', protocol: expert.protocol });
      expect(rec.failure).toBeUndefined();
      expect(rec.outcome?.kind === 'success').toBe(rec.success);
      expect(rec.latency.length).toBe(rec.steps - 1); // the first step is warm-up
      for (const l of rec.latency) {
        expect(Object.keys(l).sort()).toEqual(['backboneMs', 'captureMs', 'decoderMs', 'policyMs', 'totalMs', 'transferMs']);
        expect(l.totalMs).toBeGreaterThanOrEqual(l.transferMs + l.policyMs! - 0.01);
      }
    }
    // the port of the scripted expert, over HTTP, takes the in-page expert's episodes step for step (the blind twin too: it steers by state)
    expect(byEpisode(r.records, 'scripted-py')).toEqual(byEpisode(r.records, 'expert'));
    expect(byEpisode(r.records, 'scripted-py+blind')).toEqual(byEpisode(r.records, 'expert'));
    expect(r.records.filter((x) => x.policy === 'scripted-py').every((x) => x.success)).toBe(true);

    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    const row = summary.policies.find((p: { policy: string }) => p.policy === 'scripted-py');
    expect(row).toMatchObject({ backbone: 'scripted (privileged state)', backend: 'remote', params: 0, episodes: 2, success: { p: 1 }, chunkLength: 1, chunkExecution: 'open_loop', perInference: { share: 1 } });
    expect(row.latency.policyMs.p50).toBeGreaterThanOrEqual(0);
    expect(row.latency.transferMs.p50).toBeGreaterThan(0);
    expect(summary.meta.remote).toMatchObject({ timeoutMs: 5000, policies: { 'scripted-py': { server: ref.server, model: 'scripted-py@1.0', privileged: true, cameras: ['scene'] } } });
    const csv = readFileSync(join(out, 'results.csv'), 'utf8').split('\n');
    expect(csv[0]).toMatch(/,totalMs_p50,policyMs_p50$/);
    expect(csv.filter((l) => l.includes(',scripted-py,scripted (privileged state),remote,true,'))).toHaveLength(2);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('scripted-py');

    // resume: nothing to rerun; the same name with another version is another model
    expect((await runEval(opts)).records).toHaveLength(6);
    expect(readRecords(join(out, 'episodes.jsonl'))).toHaveLength(6);
    const v2 = await py(REFERENCE, ['--version', '2.0']);
    await expect(runEval({ ...opts, policies: [`remote:${v2.server}`] })).rejects.toThrow(/holds episodes of "scripted-py" from remote policy scripted-py@1\.0, but "scripted-py" is now remote policy scripted-py@2\.0/);
  }, 600_000);

  it('a late reply, a NaN and a server that dies mid-episode fail only their episodes, named; the run goes on', async () => {
    const faulty = await py(FAULTY, ['--faults', '1:slow,2:nan,3:die', '--fault-step', '3', '--slow-s', '10']);
    const standby = startPyServer(FAULTY, ['--retry-bind', '300'], faulty.port, 300_000); // binds the moment the faulty one exits
    standby.catch(() => undefined); // awaited below; a failure to start fails the test there
    const out = join(dir, 'faults');
    const r = await runEval({ policies: [`remote:${faulty.server}`], baselines: false, suite: 'tabletop', split: 'heldout_layout', episodes: 4, out, quiet: true, remoteTimeoutMs: 4000 });
    await standby;
    expect(await faulty.exited).toBe(3);
    const recs = readRecords(join(out, 'episodes.jsonl'));
    expect(recs).toHaveLength(4);
    expect(r.records.map((x) => x.failure?.kind ?? 'none')).toEqual(['remote', 'remote', 'remote', 'none']);
    const msgs = r.records.map((x) => x.failure?.message ?? '');
    expect(msgs[0]).toMatch(new RegExp(`^timeout: no reply from ${faulty.server.replace(/\./g, '\\.')} within 4000 ms \\(--remote-timeout\\) at step 3$`));
    expect(msgs[1]).toMatch(/^nan: the reply of 127\.0\.0\.1:\d+ at step 3 holds NaN/);
    expect(msgs[2]).toMatch(/^unreachable: cannot reach 127\.0\.0\.1:\d+ at step 3: the server closed the connection without a reply \(socket hang up: did it die\?\)$/);
    for (const x of r.records.slice(0, 3)) expect({ steps: x.steps, success: x.success, outcome: x.outcome }).toEqual({ steps: 3, success: false, outcome: undefined });
    expect(r.records[3]).toMatchObject({ success: true, remoteModel: 'scripted-py@1.0' });
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.policies[0]).toMatchObject({ episodes: 4, failures: { remote: 3 } });
  }, 600_000);
});
