/**
 * record-inputs: records what the view projection is fed from a real 3-node cluster in the
 * states the dashboard must get right at the edges, into test/fixtures/projection/*.json, for
 * test/view/projection.test.ts. Run it again when the node status or the input format changes:
 *
 *   npx tsx test/view/record-inputs.ts && npx prettier --write test/fixtures/projection
 *
 * Each file holds one ProjectionInput (the fault model's per-node map and the per-link traffic as
 * [key, value] pairs) and
 * a line saying how the state was reached.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ClusterView, NodeId } from '../../main/contract/view';
import type { Supervisor } from '../../main/cluster/supervisor';
import { addNode, removeNode } from '../../main/cluster/workflows';
import type { ProjectionInput } from '../../main/view/projection';
import { startCluster, type TestCluster } from '../cluster/cluster-harness';

const OUT = fileURLToPath(new URL('../fixtures/projection/', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, ms: number, f: () => T | undefined | false): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** settled: one leader everyone follows, that has heard from all and committed its log. */
function settled(v: ClusterView): boolean {
  const l = v.nodes.find((n) => n.id === v.leader)?.raft;
  return (
    !!l &&
    l.commit === l.lastIndex &&
    l.progress.length === v.nodes.length - 1 &&
    l.progress.every((p) => p.state === 'replicate' && p.match === l.lastIndex) &&
    v.nodes.every(
      (n) =>
        n.raft !== null &&
        n.raft.leader === v.leader &&
        n.raft.applied >= l.commit &&
        n.membership === 'voter',
    )
  );
}

function save(name: string, how: string, input: ProjectionInput): void {
  const json = {
    how,
    input: {
      ...input,
      faults: { ...input.faults, nodes: [...input.faults.nodes.entries()] },
      // JSON has no Map: the per-link rates go as [link, rate] pairs.
      traffic: input.traffic ? [...input.traffic.entries()] : undefined,
    },
  };
  writeFileSync(`${OUT}${name}.json`, `${JSON.stringify(json, null, 1)}\n`);
  console.log(`recorded ${name}: ${how}`);
}

async function fresh(name: string): Promise<TestCluster> {
  const c = await startCluster(`record-${name}`);
  await until('a settled cluster', 20_000, () => settled(c.sup.view()));
  return c;
}

function others(sup: Supervisor, id: NodeId): NodeId[] {
  return [...sup.nodes.keys()].filter((x) => x !== id).sort((a, b) => a - b);
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const run = async (name: string, f: (c: TestCluster) => Promise<string>): Promise<void> => {
    const c = await fresh(name);
    try {
      const how = await f(c);
      save(name, how, c.sup.projectionInput());
    } finally {
      await c.teardown();
    }
  };

  await run('healthy', async () => 'three voters following one leader, all caught up');

  await run('leader-killed', async ({ sup }) => {
    const l = sup.view().leader;
    await sup.kill(l);
    await until('the kill seen', 5000, () => !sup.nodes.get(l)!.proc.running);
    return `kill -9 of leader ${l}, recorded before the others elect (they still follow it)`;
  });

  await run('partition', async ({ sup }) => {
    const l = sup.view().leader;
    const [a, b] = others(sup, l) as [NodeId, NodeId];
    await sup.partition([[l, a], [b]]);
    await until('the cut-off node to campaign', 10_000, () => {
      const r = sup.view().nodes.find((n) => n.id === b)?.raft;
      return r && r.leader === 0 && r.role !== 'follower';
    });
    await sleep(300);
    return `partition {${l},${a}} | {${b}} with leader ${l}: node ${b} knows no leader`;
  });

  await run('quorum-loss', async ({ sup }) => {
    const l = sup.view().leader;
    const [a, b] = others(sup, l) as [NodeId, NodeId];
    await sup.kill(a);
    await sup.kill(l);
    await until(`node ${b} without a leader`, 10_000, () => {
      const r = sup.view().nodes.find((n) => n.id === b)?.raft;
      return r && r.leader === 0;
    });
    await sleep(500);
    return `kill -9 of leader ${l} and node ${a}: node ${b} alone, no quorum`;
  });

  await run('paused-leader', async ({ sup }) => {
    const l = sup.view().leader;
    sup.pause(l);
    await sleep(400);
    return `SIGSTOP of leader ${l}, 0.4 s later (the others still follow it)`;
  });

  await run('added', async ({ sup }) => {
    const { wf, run: done } = await addNode(sup);
    const id = wf.view.node;
    let seen: ProjectionInput | undefined;
    await until(`node ${id} as a learner`, 30_000, () => {
      const v = sup.view();
      if (v.nodes.find((n) => n.id === id)?.membership === 'learner') {
        seen = sup.projectionInput();
        return true;
      }
      return false;
    });
    await done;
    save('learner', `add-node ${id}, recorded while it was a learner`, seen!);
    return `add-node ${id}, after the workflow finished`;
  });

  await run('after-removal', async ({ sup }) => {
    const l = sup.view().leader;
    const [a] = others(sup, l) as [NodeId];
    const { run: done } = await removeNode(sup, a);
    let seen: ProjectionInput | undefined;
    await until(`the configuration without node ${a}`, 20_000, () => {
      const v = sup.view();
      const lr = v.nodes.find((n) => n.id === v.leader)?.raft;
      const gone = v.nodes.find((n) => n.id === a);
      if (lr && !lr.voters.includes(a) && gone) {
        seen = sup.projectionInput();
        return true;
      }
      return false;
    });
    await done;
    save('removed', `remove-node ${a}: committed, recorded before the node left`, seen!);
    return `remove-node ${a}, after the workflow finished`;
  });
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
