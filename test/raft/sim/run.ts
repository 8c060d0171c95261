import { isLearner, isVoter } from '../../../main/raft/conf';
import { seededRng } from '../../../main/raft/rng';
import type { NodeId } from '../../../main/raft/types';
import { SimCluster } from './cluster';

export interface SimResult {
  seed: number;
  violations: string[];
  /** trace: the faults and membership changes, in order, for replaying a failing seed by eye. */
  trace: string[];
  stats: SimCluster['stats'] & {
    voters: number;
    proposals: number;
    acked: number;
    reads: number;
    faults: number;
    confChanges: number;
    finalCommit: number;
  };
}

/**
 * runSchedule runs one seeded random schedule: 3-5 voters (plus learners that join), random
 * partitions, drops, duplicates, delays, crashes and restarts, membership changes, leadership
 * transfers, snapshots, proposals and reads. Afterwards every fault is healed and the cluster
 * must converge: a leader, and every acknowledged proposal applied on every member.
 * The same seed always produces the same run.
 */
export function runSchedule(seed: number, durationMs = 6000): SimResult {
  const rng = seededRng(seed ^ 0x5eed5);
  const pick = <T>(xs: T[]): T | undefined =>
    xs.length ? xs[Math.floor(rng() * xs.length)] : undefined;
  const nVoters = 3 + Math.floor(rng() * 3);
  const ids = Array.from({ length: nVoters }, (_, i) => i + 1);
  const c = new SimCluster({
    ids,
    seed,
    preVote: rng() < 0.85,
    checkQuorum: rng() < 0.85,
    compactEvery: rng() < 0.75 ? 8 + Math.floor(rng() * 40) : 0,
    compactKeep: Math.floor(rng() * 4),
    snapshotPad: 50 + Math.floor(rng() * 1500),
    snapshotChunkBytes: 64 + Math.floor(rng() * 400),
    snapshotWindow: 1 + Math.floor(rng() * 3),
    maxMsgBytes: 64 + Math.floor(rng() * 1000),
    maxInflight: 1 + Math.floor(rng() * 8),
    promoteGap: Math.floor(rng() * 10),
    delay: [1, 2 + Math.floor(rng() * 20)],
    keepEvents: false,
  });
  const trace: string[] = [];
  const log = (s: string): void => {
    trace.push(`t=${c.now} ${s}`);
  };
  let nextId = nVoters + 1;
  let proposals = 0;
  let faults = 0;
  let confChanges = 0;

  const fault = (): void => {
    faults++;
    const all = [...c.nodes.values()].filter((n) => !n.exited);
    const alive = all.filter((n) => n.alive);
    const down = all.filter((n) => !n.alive);
    const leader = c.leader();
    const x = rng();
    if (x < 0.12) {
      const n = pick(alive);
      if (n) {
        c.crash(n.id);
        log(`crash ${n.id}`);
      }
    } else if (x < 0.26) {
      const n = pick(down);
      if (n) {
        c.restart(n.id);
        log(`restart ${n.id}`);
      }
    } else if (x < 0.34) {
      const n = rng() < 0.5 && leader ? leader : pick(all)?.id;
      if (n) {
        c.isolate(n);
        log(`isolate ${n}`);
      }
    } else if (x < 0.44) {
      const groups: NodeId[][] = [[], []];
      for (const n of all) groups[rng() < 0.5 ? 0 : 1]!.push(n.id);
      c.partition(groups);
      log(`partition ${JSON.stringify(groups)}`);
    } else if (x < 0.56) {
      c.heal();
      log('heal');
    } else if (x < 0.62) {
      c.dropRate = rng() < 0.5 ? 0 : rng() * 0.3;
      c.dupRate = rng() < 0.5 ? 0 : rng() * 0.2;
      log(`drop ${c.dropRate.toFixed(2)} dup ${c.dupRate.toFixed(2)}`);
    } else if (x < 0.72) {
      if (!leader || c.nodes.size >= 9) return;
      const id = nextId++;
      c.addNode(id);
      const r = c.confChange(leader, { type: 'add-learner', node: id, address: `sim:${id}` });
      confChanges++;
      log(`add-learner ${id} via ${leader}: ${r.ok ? 'ok' : r.error}`);
    } else if (x < 0.8) {
      if (!leader) return;
      const conf = c.node(leader).raft.log.conf();
      const l = pick(conf.learners);
      if (l === undefined) return;
      const r = c.confChange(leader, { type: 'promote', node: l });
      confChanges++;
      log(`promote ${l} via ${leader}: ${r.ok ? 'ok' : r.error}`);
    } else if (x < 0.86) {
      if (!leader) return;
      const conf = c.node(leader).raft.log.conf();
      const cand = [...conf.voters, ...conf.learners];
      const victim = pick(cand);
      if (victim === undefined || (isVoter(conf, victim) && conf.voters.length <= 3)) return;
      const r = c.confChange(leader, { type: 'remove', node: victim });
      confChanges++;
      log(`remove ${victim} via ${leader}: ${r.ok ? 'ok' : r.error}`);
    } else if (x < 0.93) {
      if (!leader) return;
      const conf = c.node(leader).raft.log.conf();
      const t = pick(conf.voters.filter((v) => v !== leader));
      if (t === undefined) return;
      const r = c.transfer(leader, t);
      log(`transfer ${leader} -> ${t}: ${r.ok ? 'ok' : r.error}`);
    } else {
      c.dropInFlight();
      log('lose everything in flight');
    }
  };

  let lastMatch = 0;
  while (c.now < durationMs) {
    c.runFor(25);
    const leader = c.leader();
    const nProps = Math.floor(rng() * 3);
    for (let i = 0; i < nProps; i++) {
      const target = leader && rng() < 0.8 ? leader : pick(c.live())?.id;
      if (target === undefined) break;
      const r = c.propose(target, `s${seed}-p${proposals++}`);
      void r;
    }
    if (rng() < 0.15) {
      const n = pick(c.live());
      if (n) {
        c.read(n.id);
      }
    }
    if (rng() < 0.06) fault();
    if (c.now - lastMatch >= 500) {
      lastMatch = c.now;
      c.checkLogMatching();
    }
    if (c.violations.length) break;
  }

  // Heal everything, bring every member back, and demand convergence.
  if (c.violations.length === 0) {
    c.heal();
    c.dropRate = 0;
    c.dupRate = 0;
    c.dropIf = undefined;
    log('final: heal and restart all');
    for (const n of c.nodes.values()) if (!n.alive && !n.exited) c.restart(n.id);
    let leader = 0;
    for (let t = 0; t < 20000 && !leader; t += 250) {
      c.runFor(250);
      leader = c.leader();
    }
    if (!leader) {
      c.violate('liveness: no leader 20 s after healing');
    } else {
      let done = false;
      for (let t = 0; t < 30000 && !done; t += 250) {
        const l = c.leader();
        if (l) c.propose(l, `s${seed}-final`);
        c.runFor(250);
        const ml = c.leader();
        if (!ml) continue;
        const lr = c.node(ml).raft;
        const conf = lr.log.conf();
        done =
          lr.log.commit >= c.maxAckedIndex &&
          [...conf.voters, ...conf.learners].every((id) => {
            const n = c.nodes.get(id);
            return (
              n !== undefined &&
              n.alive &&
              n.sm.index >= c.maxAckedIndex &&
              n.sm.index >= lr.log.commit
            );
          });
      }
      const l = c.leader();
      const conf = l ? c.node(l).raft.log.conf() : undefined;
      if (!done || !conf) {
        const where = conf
          ? [...conf.voters, ...conf.learners]
              .map((id) => {
                const n = c.nodes.get(id);
                return `${id}${isLearner(conf, id) ? 'L' : ''}:${n?.alive ? 'up' : 'down'}@${n?.sm.index}`;
              })
              .join(' ')
          : 'no leader';
        c.violate(
          `durability: acknowledged writes up to ${c.maxAckedIndex} not applied on every member (${where})`,
        );
      } else {
        for (const a of c.acked) {
          if (c.appliedAt(a.index) !== a.key) c.violate(`acknowledged write at ${a.index} lost`);
        }
      }
      c.checkLogMatching();
    }
  }
  const lead = c.leader();
  return {
    seed,
    violations: c.violations,
    trace,
    stats: {
      ...c.stats,
      voters: nVoters,
      proposals,
      acked: c.acked.length,
      reads: c.readsServed,
      faults,
      confChanges,
      finalCommit: lead ? c.node(lead).raft.log.commit : 0,
    },
  };
}
