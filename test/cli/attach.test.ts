/**
 * `raftdeck attach` against a real etcd cluster serving clients over TLS with client certificates
 * (etcd-harness): it prints the dashboard's URL and serves a view of every member and the leader
 * over HTTP, refuses a change through the web API unless changes were allowed, stops on SIGINT;
 * it refuses --password, --allow-changes without a confirmation, --user without a password, and
 * names TLS when the CA is wrong; --add-learner and --promote change the membership once each.
 * Needs the built dashboard (npm run build).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterView } from '../../main/contract/view';
import { hostOf } from '../../main/cluster/etcd/etcd-client';
import { startEtcdCluster, type TestEtcdCluster } from '../cluster/etcd/etcd-harness';
import { BIN, ROOT, runCli } from './run-cli';

let cluster: TestEtcdCluster;
const served: ChildProcess[] = [];

/** tlsArgs: the client's certificates of the test cluster as the command line names them. */
const tlsArgs = (): string[] => [
  '--cacert',
  cluster.certs!.ca,
  '--cert',
  cluster.certs!.clientCert,
  '--key',
  cluster.certs!.clientKey,
];

beforeAll(async () => {
  cluster = await startEtcdCluster({ members: 3, tls: true, name: 'cli-attach' });
}, 90_000);

afterAll(async () => {
  for (const c of served) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await cluster?.stop();
});

/**
 * serveAttach runs `raftdeck attach ARGS` (or `raftdeck app ARGS` with `command` 'app', with no
 * display so that it serves in browser mode) in the background until it prints the dashboard's
 * URL.
 */
function serveAttach(
  args: string[],
  command: 'attach' | 'app' = 'attach',
): Promise<{
  child: ChildProcess;
  url: string;
  stdout: () => string;
  exited: Promise<number | null>;
}> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  const child = spawn(process.execPath, [BIN, command, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  served.push(child);
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed: ${out} ${err}`)), 30_000);
    void exited.then((code) => reject(new Error(`attach exited with ${code}: ${out} ${err}`)));
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /raftdeck dashboard: (\S+)\n.*\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, stdout: () => out, exited });
      }
    });
  });
}

describe('raftdeck attach in browser mode', () => {
  it('prints the URL and serves every member and the leader; a change is refused (409); SIGINT stops it', async () => {
    const s = await serveAttach(['--etcd', cluster.endpoints[2]!, '--port', '0', ...tlsArgs()]);
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=.{16,}$/);
    expect(s.stdout()).toMatch(
      /etcd cluster [0-9a-f]+ \(etcd 3\.\d+\.\d+\): 3 members \((e[123], ){2}e[123]\), leader e[123]; read-only \(changes need --allow-changes\); Ctrl-C to stop\n/,
    );
    const names = /3 members \(([^)]*)\)/.exec(s.stdout())![1]!.split(', ');
    expect(names.sort()).toEqual(['e1', 'e2', 'e3']);
    const u = new URL(s.url);
    const token = u.searchParams.get('token')!;
    const call = async (
      name: string,
      args: unknown[],
    ): Promise<{ status: number; body: { ok: boolean; value?: unknown; error?: string } }> => {
      const res = await fetch(`${u.origin}/api/call/${name}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(args),
      });
      return { status: res.status, body: (await res.json()) as { ok: boolean; error?: string } };
    };
    const v = (await call('getView', [])).body.value as ClusterView;
    expect(v.engine).toMatchObject({ kind: 'etcd', mode: 'attached' });
    expect(v.nodes.map((n) => n.id)).toEqual([1, 2, 3]);
    // All three found from the one endpoint given.
    expect(v.nodes.map((n) => n.addresses.client).sort()).toEqual(
      cluster.endpoints.map(hostOf).sort(),
    );
    expect(v.leader).toBeGreaterThan(0);
    expect(v.nodes.filter((n) => n.role === 'leader').map((n) => n.id)).toEqual([v.leader]);
    expect(v.nodes.every((n) => n.health === 'healthy')).toBe(true);

    const removal = await call('removeNode', [v.nodes.find((n) => n.id !== v.leader)!.id]);
    expect(removal.status).toBe(409);
    expect(removal.body.error).toMatch(/read-only: changes need --allow-changes/);
    const move = await call('transferLeader', [v.nodes.find((n) => n.id !== v.leader)!.id]);
    expect(move.status).toBe(409);
    const kill = await call('killNode', [1]);
    expect(kill.status).toBe(409);
    expect(kill.body.error).toBe("killNode: raftdeck did not start this cluster's processes");
    // Nothing changed: still three voters.
    const after = (await call('getView', [])).body.value as ClusterView;
    expect(after.config.voters).toEqual([1, 2, 3]);
    expect(after.workflows).toEqual([]);

    s.child.kill('SIGINT');
    expect(await s.exited).toBe(0);
    expect(s.stdout()).toMatch(/SIGINT: stopping \.\.\.\nstopped\n$/);
  }, 60_000);
});

describe('raftdeck app --attach', () => {
  it('where the desktop window cannot open, serves the attached cluster as attach does', async () => {
    const s = await serveAttach(
      ['--attach', cluster.endpoints[0]!, ...tlsArgs(), '--no-open', '--port', '0'],
      'app',
    );
    expect(s.stdout()).toMatch(/the desktop window cannot open: .*serving the same dashboard/);
    expect(s.stdout()).toMatch(/3 members \((e[123], ){2}e[123]\), leader e[123]; read-only/);
    const u = new URL(s.url);
    const res = await fetch(`${u.origin}/api/call/getView`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${u.searchParams.get('token')}`,
        'Content-Type': 'application/json',
      },
      body: '[]',
    });
    const v = ((await res.json()) as { value: ClusterView }).value;
    expect(v.engine.mode).toBe('attached');
    expect(v.nodes).toHaveLength(3);
    s.child.kill('SIGINT');
    expect(await s.exited).toBe(0);
  }, 60_000);

  it('refuses --attach with --lab, and certificates without --attach', async () => {
    const both = await runCli(['app', '--attach', cluster.endpoints[0]!, '--lab']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--attach and --lab each choose what the window shows/);
    const stray = await runCli(['app', '--cacert', cluster.certs!.ca]);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/--cacert is for --attach/);
    const secret = await runCli(['app', '--attach', cluster.endpoints[0]!, '--password', 'x']);
    expect(secret.code).toBe(2);
    expect(secret.stderr).toMatch(/--password is not accepted/);
  });
});

describe('raftdeck attach refuses', () => {
  it('--password, in any form, saying why', async () => {
    for (const form of [['--password', 'secret'], ['--password=secret'], ['--password']]) {
      const r = await runCli(['attach', '--etcd', cluster.endpoints[0]!, ...form]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        /--password is not accepted: .*process list.*RAFTDECK_ETCD_PASSWORD/,
      );
      expect(r.stdout).toBe('');
    }
  });

  it('--allow-changes without a terminal unless --yes confirms it ahead', async () => {
    const r = await runCli([
      'attach',
      '--etcd',
      cluster.endpoints[0]!,
      ...tlsArgs(),
      '--allow-changes',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--allow-changes asks for a confirmation .*add --yes/);
    expect(r.stdout).toBe('');
  });

  it('--user without a password when there is no terminal to ask on', async () => {
    const r = await runCli([
      'attach',
      '--etcd',
      cluster.endpoints[0]!,
      ...tlsArgs(),
      '--user',
      'u',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--user u needs a password: set RAFTDECK_ETCD_PASSWORD/);
  });

  it('a membership change without --allow-changes', async () => {
    const r = await runCli([
      'attach',
      '--etcd',
      cluster.endpoints[0]!,
      '--add-learner',
      'http://127.0.0.1:9',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /--add-learner changes the cluster's membership: it needs --allow-changes/,
    );
  });

  it('a CA that did not sign the members certificates: a TLS error, exit 1', async () => {
    const r = await runCli(
      [
        'attach',
        '--etcd',
        cluster.endpoints[0]!,
        '--cacert',
        cluster.certs!.otherCa,
        '--cert',
        cluster.certs!.clientCert,
        '--key',
        cluster.certs!.clientKey,
      ],
      30_000,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^raftdeck attach: cannot reach the etcd cluster: TLS connection to https:\/\/127\.0\.0\.1:\d+ failed: .*\(check --cacert, --cert and --key\)\n$/,
    );
  });

  it('a certificate file that is not PEM, naming it (exit 2)', async () => {
    const r = await runCli(['attach', '--etcd', cluster.endpoints[0]!, '--cacert', BIN]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`the CA certificate (--cacert) ${BIN} is not a PEM file`);
  });
});

/**
 * onTerminal runs `raftdeck attach ARGS` on a pseudo-terminal (util-linux `script`), typing
 * `answer` once `prompt` shows, and resolves with everything the terminal showed.
 */
function onTerminal(
  args: string[],
  prompt: string,
  answer: string,
): Promise<{ code: number | null; screen: string }> {
  const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
  const line = [process.execPath, BIN, 'attach', ...args].map(quote).join(' ');
  const child = spawn('script', ['-qec', line, '/dev/null'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  served.push(child);
  let screen = '';
  let typed = false;
  const onData = (d: string): void => {
    screen += d;
    if (!typed && screen.includes(prompt)) {
      typed = true;
      child.stdin!.write(answer);
    }
  };
  child.stdout!.setEncoding('utf8').on('data', onData);
  child.stderr!.setEncoding('utf8').on('data', onData);
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, screen });
    }),
  );
}

describe('raftdeck attach on a terminal', () => {
  it('asks to allow changes, naming the cluster and its members; anything but yes changes nothing', async () => {
    const r = await onTerminal(
      ['--etcd', cluster.endpoints[0]!, ...tlsArgs(), '--allow-changes'],
      '[y/N] ',
      'n\r',
    );
    expect(r.screen).toMatch(
      /allow changes to etcd cluster [0-9a-f]+ \(members (e[123] https:\/\/127\.0\.0\.1:\d+, ){2}e[123] https:\/\/127\.0\.0\.1:\d+\)\? \[y\/N\] /,
    );
    expect(r.screen).toMatch(/changes not confirmed: nothing was done/);
    expect(r.screen).not.toMatch(/raftdeck dashboard:/);
    expect(r.code).toBe(1);
  }, 40_000);

  it('asks for the password of --user without echoing it', async () => {
    const r = await onTerminal(
      ['--etcd', cluster.endpoints[0]!, ...tlsArgs(), '--user', 'someone'],
      'etcd password for someone: ',
      'sec-ret-typed\r',
    );
    expect(r.screen).toContain('etcd password for someone: ');
    // it went on to sign in with what was typed (a pseudo-terminal may drop the last lines of a
    // process that ends at once, so either line shows it)
    expect(r.screen).toMatch(/attaching to the etcd cluster|authentication is not enabled/);
    expect(r.screen).not.toContain('sec-ret-typed');
    // This cluster does not check users: etcd refuses the sign-in, and attach ends with its words.
    expect(r.code).toBe(1);
  }, 40_000);
});

describe('raftdeck attach --allow-changes --yes: one change at a time', () => {
  it('adds a learner by its peer URL, says how to start it, and promotes it once etcd finds it in sync', async () => {
    const base = [
      'attach',
      '--etcd',
      cluster.endpoints.join(','),
      ...tlsArgs(),
      '--allow-changes',
      '--yes',
    ];
    const m = await cluster.prepareMember();
    const added = await runCli([...base, '--add-learner', m.peer], 30_000);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(
      /changes allowed to etcd cluster [0-9a-f]+ \(members (e[123] https:\/\/127\.0\.0\.1:\d+, ){2}e[123] https:\/\/127\.0\.0\.1:\d+\): --yes\n/,
    );
    const said =
      /added a learner to etcd cluster [0-9a-f]+: member ([0-9a-f]+), peer URL (\S+)\n/.exec(
        added.stdout,
      );
    expect(said?.[2]).toBe(m.peer);
    const hex = said![1]!;
    // How to start it: the members' names and peer URLs, then the new one's.
    const initial = /--initial-cluster-state existing --initial-cluster (\S+)\n/
      .exec(added.stdout)![1]!
      .split(',');
    expect(initial.pop()).toBe(`NAME=${m.peer}`);
    expect(initial.sort()).toEqual(cluster.members.slice(0, 3).map((x) => `${x.name}=${x.peer}`));
    expect(added.stdout).toContain(`--allow-changes --promote ${hex}\n`);

    // Promoting a learner that has not started: etcd refuses, and says why.
    const early = await runCli([...base, '--promote', hex], 30_000);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(new RegExp(`promoting member ${hex}: .*etcdserver: `));

    cluster.startJoining(
      m,
      [...cluster.members.slice(0, 3), m].map((x) => `${x.name}=${x.peer}`).join(','),
    );
    // Asked again until etcd finds the learner in sync (a loaded machine takes longer to start
    // and catch it up); every refusal meanwhile is etcd's own.
    let promoted = early;
    const end = Date.now() + 90_000;
    while (promoted.code !== 0 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 1000));
      promoted = await runCli([...base, '--promote', hex], 30_000);
      if (promoted.code !== 0) {
        expect(promoted.stderr).toMatch(/in sync with leader|etcdserver: /);
        // never sent to the learner itself, which takes no cluster calls
        expect(promoted.stderr).not.toMatch(/not supported for learner/);
      }
    }
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(promoted.stdout).toMatch(new RegExp(`member ${hex} \\(\\S+\\) is a voter now\\n$`));
    const again = await runCli([...base, '--promote', hex], 30_000);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is not a learner/);
  }, 180_000);
});
