import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decimalToHex,
  goDurationMs,
  parseEtcdLog,
  type EtcdLogEvent,
} from '../../../main/cluster/etcd/etcd-log';

// The fixtures are lines etcd 3.4.23 wrote in three runs of a local cluster through the peer
// proxies (elections, a partition, a kill, a learner added and promoted with a snapshot, a member
// removed, pauses under load). These are the member ids of each run.
const IDS: Record<string, number> = {
  // elections, snapshot, membership
  aad61a6c95b3d015: 1,
  aa72c86518cec75c: 2,
  d0224fe070e673eb: 3,
  '957db49407f1bdec': 4,
  // prevote, slow
  '628cfb287179f38e': 1,
  '60311b8793c2a485': 2,
  c4f3dc37c0b8209c: 3,
  b1ee5a77504ef830: 1,
  '4ec4bbcb98442c81': 2,
  f01c5628ad879813: 3,
};
const names = (hex: string): number | null => IDS[hex] ?? null;

function records(file: string): Record<string, unknown>[] {
  return readFileSync(join(__dirname, '../../fixtures/etcd-log', file), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** parsed: the events of a fixture, with the line each came from. */
function parsed(file: string, self?: number): { msg: string; e: EtcdLogEvent | null }[] {
  return records(file).map((r) => ({ msg: r.msg as string, e: parseEtcdLog(r, names, self) }));
}

const find = (all: { msg: string; e: EtcdLogEvent | null }[], re: RegExp) =>
  all.find((x) => re.test(x.msg));

describe('parseEtcdLog: elections', () => {
  const all = parsed('elections.jsonl');

  it('reads role transitions with their terms', () => {
    const cand = find(all, /became candidate at term 3$/)!.e!;
    expect(cand).toMatchObject({ kind: 'election', role: 'candidate', term: 3 });
    expect(cand.message).toBe('node 1 campaigns for term 3');
    const lead = find(all, /aad61a6c95b3d015 became leader at term 3$/)!.e!;
    expect(lead).toMatchObject({ kind: 'leader', role: 'leader', term: 3 });
    expect(lead.message).toBe('node 1 became leader of term 3');
    const fol = find(all, /became follower at term 2$/)!.e!;
    expect(fol).toMatchObject({ kind: 'role', role: 'follower', term: 2 });
    expect(fol.message).toBe('node 1 is follower in term 2');
  });

  it('reads votes granted, received and refused, with the reason from the logged figures', () => {
    expect(find(all, /cast MsgVote for d0224fe070e673eb .* at term 2$/)!.e).toMatchObject({
      kind: 'vote',
      term: 2,
      message: 'node 1 granted its vote to node 3 for term 2',
      data: { voter: 1, candidate: 3, granted: true, prevote: false },
    });
    expect(find(all, /received MsgVoteResp from aa72c86518cec75c at term 3$/)!.e).toMatchObject({
      kind: 'vote',
      term: 3,
      message: 'node 1 received a vote from node 2 for term 3',
    });
    expect(find(all, /received MsgVoteResp from aad61a6c95b3d015 at term 3$/)!.e!.message).toBe(
      'node 1 gives itself a vote for term 3',
    );
    expect(
      find(all, /received MsgVoteResp rejection from d0224fe070e673eb at term 7/)!.e!.message,
    ).toBe('node 1 was refused a vote by node 3 for term 7');
    // "[logterm: 4, index: 71, vote: 0] rejected MsgVote from 1 [logterm: 3, index: 70]"
    expect(find(all, /^aa72c86518cec75c .* rejected MsgVote .* at term 8$/)!.e).toMatchObject({
      term: 8,
      message:
        "node 2 refused its vote to node 1 for term 8: the candidate's log is behind its own",
      data: { granted: false },
    });
    expect(find(all, /ignored MsgVote/)!.e!.message).toBe(
      'node 2 ignored a vote request from node 1 in term 4: it still hears from its leader',
    );
    expect(find(all, /has received 2 MsgVoteResp votes and 0 vote rejections/)!.e).toMatchObject({
      kind: 'vote',
      message: 'node 1 has 2 votes and 0 refusals',
      data: { votes: 2, rejections: 0 },
    });
  });

  it('reads leader changes and a leader stepping down, and leaves out what repeats', () => {
    expect(
      find(all, /aad61a6c95b3d015 elected leader d0224fe070e673eb at term 2/)!.e,
    ).toMatchObject({
      kind: 'leader',
      term: 2,
      message: 'node 1 follows leader node 3 in term 2',
      data: { leader: 3 },
    });
    expect(find(all, /lost leader d0224fe070e673eb at term 3/)!.e!.message).toBe(
      'node 1 lost leader node 3 in term 3',
    );
    expect(find(all, /stepped down to follower since quorum is not active/)!.e).toMatchObject({
      kind: 'leader',
      message: 'node 1 stepped down: it has not heard from a quorum within an election timeout',
    });
    // The leader's own "elected leader" repeats its "became leader"; stream chatter, each vote
    // request sent and "starting a new election" (followed by "became candidate") say nothing new.
    expect(find(all, /aad61a6c95b3d015 elected leader aad61a6c95b3d015/)!.e).toBeNull();
    for (const re of [
      /sent MsgVote request/,
      /starting a new election/,
      /TCP streaming/,
      /peer became active/,
    ]) {
      expect(find(all, re)!.e).toBeNull();
    }
  });

  it('names a member it does not know by its hex id', () => {
    const r = records('elections.jsonl').find((x) => /became candidate/.test(x.msg as string))!;
    expect(parseEtcdLog(r, () => null)!.message).toBe(
      'member aad61a6c95b3d015 campaigns for term 3',
    );
  });
});

describe('parseEtcdLog: pre-votes', () => {
  const all = parsed('prevote.jsonl');

  it('words pre-votes for the term they ask for, keeping the logged term', () => {
    expect(find(all, /became pre-candidate at term 1$/)!.e).toMatchObject({
      kind: 'election',
      role: 'pre-candidate',
      term: 1,
      message: 'node 1 asks for pre-votes for term 2',
    });
    expect(
      find(all, /628cfb287179f38e received MsgPreVoteResp from c4f3dc37c0b8209c at term 1/)!.e,
    ).toMatchObject({
      kind: 'vote',
      term: 1,
      message: 'node 1 received a pre-vote from node 3 for term 2',
      data: { prevote: true, forTerm: 2 },
    });
    expect(
      find(all, /60311b8793c2a485 .* cast MsgPreVote for 628cfb287179f38e .* at term 1$/)!.e!
        .message,
    ).toBe('node 2 granted a pre-vote to node 1 in term 1');
    expect(find(all, /has received 2 MsgPreVoteResp votes/)!.e!.message).toMatch(
      /has 2 pre-votes and 0 refusals$/,
    );
    expect(find(all, /ignored MsgPreVote/)!.e!.message).toBe(
      'node 3 ignored a pre-vote request from node 1 in term 3: it still hears from its leader',
    );
  });

  it('gives every election line of a pre-vote run an event with a term or a tally', () => {
    const events = all.map((x) => x.e).filter((e): e is EtcdLogEvent => e !== null);
    expect(events.length).toBeGreaterThan(20);
    for (const e of events) {
      expect(['election', 'vote', 'role', 'leader']).toContain(e.kind);
      if (e.term === undefined) expect(e.message).toMatch(/refusals|stepped down/);
    }
  });
});

describe('parseEtcdLog: snapshots, membership, slow storage', () => {
  it('reads a snapshot sent by the leader and received by a new member, with sizes', () => {
    const all = parsed('snapshot.jsonl', 3);
    expect(find(all, /^sending database snapshot$/)!.e).toMatchObject({
      kind: 'snapshot',
      message: 'node 3 sends snapshot 6074 (1.7 MiB) to node 4',
      data: { to: 4, index: 6074, bytes: 1820778 },
    });
    expect(find(all, /^sent database snapshot$/)!.e!.message).toBe(
      'node 3 finished sending snapshot 6074 (1.7 MiB) to node 4',
    );
    // The receiving lines name the receiver in local-member-id, whoever `self` says.
    expect(find(all, /^receiving database snapshot$/)!.e!.message).toBe(
      'node 4 receives snapshot 6074 from node 3',
    );
    expect(find(all, /^received and saved database snapshot$/)!.e).toMatchObject({
      message: 'node 4 received snapshot 6074 from node 3: 1.7 MiB in 25 ms',
      data: { from: 3, index: 6074, bytes: 1810432 },
    });
    expect(find(all, /^applied snapshot$/)!.e!.message).toBe('node 3 installed snapshot 6074');
    expect(find(all, /^saved snapshot$/)!.e!.message).toBe('node 3 took a snapshot at 103');
    expect(find(all, /merged snapshot/)!.e).toBeNull();
  });

  it('reads members added, promoted and removed, and the configurations they make', () => {
    const all = parsed('membership.jsonl');
    expect(find(all, /^added member$/)!.e).toMatchObject({
      kind: 'config',
      message: 'node 1 added member node 2 (http://127.0.0.1:41797)',
      data: { member: 2 },
    });
    expect(find(all, /^removed member$/)!.e!.message).toBe('node 1 removed member node 3');
    expect(find(all, /^promote member$/)!.e!.message).toBe('node 1 promoted a learner to voter');
    const learner = find(all, /learners=\(/)!.e!;
    expect(learner).toMatchObject({ kind: 'config' });
    expect(learner.message).toBe('node 1 applies config: voters [2, 1, 3] learners [4]');
    expect(find(all, /switched to configuration voters=\(\)$/)!.e).toBeNull();
    expect(parsed('membership.jsonl', 3).find((x) => x.msg === 'server error')!.e!.message).toBe(
      'node 3 learnt that it was removed from the cluster; it shuts down',
    );
  });

  it('reads slow fsync, slow apply and late heartbeats as storage warnings', () => {
    // Every line of this fixture was written by node 3 (the leader of its run).
    const all = parsed('slow.jsonl', 3);
    expect(find(all, /^slow fdatasync$/)!.e).toMatchObject({
      kind: 'storage',
      message: 'node 3: slow fdatasync of the WAL: 1.31 s (expected under 1.00 s)',
      data: { expectedMs: 1000 },
    });
    expect(find(all, /^apply request took too long$/)!.e!.message).toBe(
      'node 3: applying a request took 267 ms (expected under 100 ms)',
    );
    const late = find(all, /heartbeat on time/)!.e!;
    expect(late).toMatchObject({ kind: 'storage', data: { to: 1 } });
    expect(late.message).toBe(
      'node 3 sent a heartbeat to node 1 1.21 s late: the leader is overloaded, likely by a slow disk',
    );
  });

  it('gives null for records that are not etcd log lines', () => {
    expect(parseEtcdLog({}, names)).toBeNull();
    expect(parseEtcdLog({ msg: 42 }, names)).toBeNull();
    expect(parseEtcdLog({ msg: 'sending database snapshot', bytes: 'x' }, names, 1)!.message).toBe(
      'node 1 sends snapshot ?',
    );
  });
});

describe('helpers', () => {
  it('goDurationMs reads Go durations', () => {
    expect(goDurationMs('1.310838499s')).toBeCloseTo(1310.838499);
    expect(goDurationMs('24.64816ms')).toBeCloseTo(24.64816);
    expect(goDurationMs('1m2.5s')).toBe(62_500);
    expect(goDurationMs('850µs')).toBeCloseTo(0.85);
    expect(goDurationMs('0s')).toBe(0);
    expect(goDurationMs('fast')).toBeUndefined();
    expect(goDurationMs('12')).toBeUndefined();
  });

  it('decimalToHex turns a configuration member id into the hex etcd logs elsewhere', () => {
    expect(decimalToHex('12282099470326220636')).toBe('aa72c86518cec75c');
    expect(decimalToHex('18446744073709551616')).toBeUndefined();
    expect(decimalToHex('x1')).toBeUndefined();
  });
});
