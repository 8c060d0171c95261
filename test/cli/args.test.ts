import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../main/cli/args';
import { COMMAND_NAMES, loadCommand, loadCommands } from '../../main/cli/commands';
import { paceOf } from '../../main/cli/options';
import { killAll, ROOT, runCli } from './run-cli';

const tmp = mkdtempSync(join(tmpdir(), 'raftdeck-cli-args-'));
const COMMANDS = await loadCommands();
const findCommand = (name: string) => COMMANDS.find((c) => c.name === name);

afterAll(() => {
  killAll();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the command registry', () => {
  it('lists every command under its own name, and loads one by name', async () => {
    expect(COMMANDS.map((c) => c.name)).toEqual(COMMAND_NAMES);
    expect(COMMAND_NAMES).toContain('put');
    expect((await loadCommand('put'))?.summary).toBe('write a key');
    expect(await loadCommand('nosuch')).toBeUndefined();
    expect(await loadCommand('toString')).toBeUndefined();
  });
});

describe('parseArgs', () => {
  const put = findCommand('put')!;
  const start = findCommand('start')!;

  it('reads positionals, --name value, --name=value and defaults', () => {
    const a = parseArgs(put, ['k', 'v', '--timeout-ms=700', '--json']);
    expect(a.positionals).toEqual(['k', 'v']);
    expect(a.number('timeout-ms')).toBe(700);
    expect(a.flag('json')).toBe(true);
    expect(a.string('data')).toBe('./.raftdeck-data');
    expect(a.given.has('data')).toBe(false);
    const s = parseArgs(start, ['--nodes', '5']);
    expect(s.number('nodes')).toBe(5);
    expect(s.number('election-ms')).toBe(1000);
  });

  it('takes values that start with a dash after --', () => {
    expect(parseArgs(put, ['k', '--', '-5']).positionals).toEqual(['k', '-5']);
  });

  it('gives an option the next argument even when it starts with a dash', () => {
    const fault = findCommand('fault')!;
    expect(parseArgs(put, ['k', 'v', '--data', '-x']).string('data')).toBe('-x');
    expect(() => parseArgs(fault, ['delay', '1', '--to', '2', '--ms', '-5'])).toThrow(
      /--ms must be at least 0, not -5/,
    );
    expect(() => parseArgs(put, ['k', 'v', '--timeout-ms', '--json'])).toThrow(
      /--timeout-ms must be an integer, not '--json'/,
    );
  });

  it('checks what the spec declares: node ids, an option given once, -h', () => {
    const remove = findCommand('remove-node')!;
    expect(parseArgs(remove, ['3']).positionals).toEqual(['3']);
    expect(() => parseArgs(remove, ['0'])).toThrow(/ID must be a node id/);
    expect(() => parseArgs(put, ['k', 'v', '--json', '--json'])).toThrow(/--json is given twice/);
    expect(() => parseArgs(put, ['k', 'v', '-x'])).toThrow(/unknown option '-x'/);
    const help = parseArgs(put, ['-h']);
    expect(help.help).toBe(true);
    expect(help.positionals).toEqual([]);
  });

  it('rejects bad arguments with one line', () => {
    const bad: [string[], RegExp][] = [
      [['k'], /missing VALUE/],
      [['k', 'v', 'w'], /unexpected argument 'w'/],
      [['k', 'v', '--nope'], /unknown option '--nope'/],
      [['k', 'v', '--timeout-ms', 'soon'], /--timeout-ms must be an integer/],
      [['k', 'v', '--timeout-ms', '5'], /at least 100/],
      [['k', 'v', '--json=1'], /takes no value/],
      [['k', 'v', '--timeout-ms'], /needs a value/],
    ];
    for (const [argv, message] of bad) {
      expect(() => parseArgs(put, argv)).toThrow(UsageError);
      expect(() => parseArgs(put, argv)).toThrow(message);
    }
  });
});

describe('raftdeck command line', () => {
  it('--help and --version', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    for (const c of COMMANDS) expect(top.stdout).toContain(c.name);
    const v = await runCli(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('--help for every command exits 0', async () => {
    const results = await Promise.all(COMMANDS.map((c) => runCli([c.name, '--help'])));
    results.forEach((r, i) => {
      const name = COMMANDS[i]!.name;
      expect(r.code, `${name} --help: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(`raftdeck ${name}`);
      expect(r.stdout).toContain('Options:');
    });
  });

  it('bad arguments exit 2 with one line on stderr', async () => {
    const cases: [string[], RegExp][] = [
      [[], /Usage/],
      [['nosuch'], /unknown command 'nosuch'/],
      [['put', 'k'], /missing VALUE/],
      [['start', '--nodes', 'many'], /--nodes must be an integer/],
      [['start', '--heartbeat-ms', '500', '--election-ms', '400'], /must be greater than/],
      [['get', 'k', '--endpoints', '10.0.0.1:80'], /not a loopback host:port/],
      [['get', 'k', '--endpoints', '127.0.0.1:1', '--data', tmp], /not both/],
      [['cas', 'k', 'a'], /missing NEW/],
      [['cas', 'k', '--absent', 'a', 'b'], /unexpected argument 'b'/],
      [['fault', 'explode', '1'], /unknown fault 'explode'/],
      [['fault', 'kill'], /missing ID/],
      [['fault', 'kill', 'x'], /ID must be a node id/],
      [['fault', 'delay', '1', '--ms', '10'], /needs --to PEER/],
      [['fault', 'kill', '1', '--p', '0.5'], /--p does not apply to fault kill/],
      [['fault', 'partition', '1,2', '2'], /node 2 is in two groups/],
      [['remove-node'], /missing ID/],
      [['replace-node'], /missing ID/],
      [['replace-node', 'two'], /ID must be a node id/],
      [['load', '--reads', '0.8', '--cas', '0.5'], /at most 1/],
      [['load', '--clients', '0'], /at least 1/],
      [['check'], /missing FILE/],
      [['check', 'f', '--format', 'xml'], /--format must be json or jepsen/],
      [['scenario'], /missing NAME/],
      [['scenario', 'no-such-scenario'], /no scenario 'no-such-scenario'/],
      [['pace'], /missing N/],
      [['pace', '0'], /N must be a whole number from 1 to 100, not "0"/],
      [['pace', 'fast'], /N must be a whole number/],
      [['pace', '5', '--fast-failover', 'maybe'], /--fast-failover must be on or off, not "maybe"/],
      [['start', '--pace', '101'], /--pace must be/],
      [['start', '--fast-failover', 'yes'], /--fast-failover must be on or off/],
      [['scenario', 'leader-crash', '--pace', '0'], /--pace must be/],
    ];
    // A few at a time: each is a process that loads the sources, and 30 at once on two cores
    // would only make each of them slow.
    const results: Awaited<ReturnType<typeof runCli>>[] = [];
    for (let i = 0; i < cases.length; i += 4) {
      results.push(...(await Promise.all(cases.slice(i, i + 4).map(([argv]) => runCli(argv)))));
    }
    results.forEach((r, i) => {
      const [argv, message] = cases[i]!;
      expect(r.code, `raftdeck ${argv.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
      if (argv.length > 0) expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
  }, 120_000);

  it('commands that need a running cluster say what they tried, exit 1', async () => {
    const empty = join(tmp, 'empty');
    const [status, kill, get, refused, pace] = await Promise.all([
      runCli(['status', '--data', empty]),
      runCli(['fault', 'kill', '1', '--data', empty]),
      runCli(['get', 'k', '--endpoints', '127.0.0.1:1', '--timeout-ms', '300']),
      (async () => {
        const dir = join(tmp, 'stale');
        const { mkdirSync } = await import('node:fs');
        mkdirSync(dir, { recursive: true });
        writeFileSync(
          join(dir, 'control.json'),
          JSON.stringify({ port: 1, token: 'x', pid: 1, clusterId: 'c' }),
        );
        return runCli(['heal', '--data', dir]);
      })(),
      runCli(['pace', '20', '--data', empty]),
    ]);
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(/no cluster in .*empty/);
    expect(kill.code).toBe(1);
    expect(kill.stderr).toMatch(/no running cluster in .*empty/);
    expect(get.code).toBe(1);
    expect(get.stderr).toMatch(/tried 127\.0\.0\.1:1/);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/cannot reach the control port at 127\.0\.0\.1:1/);
    expect(pace.code).toBe(1);
    expect(pace.stderr).toMatch(/no running cluster in .*empty/);
  });

  it('the pace options: fast failover on at real time and off slowed down, unless given', () => {
    const start = findCommand('start')!;
    const of = (argv: string[]) => paceOf(parseArgs(start, argv));
    expect(of([])).toEqual({ pace: 1, fastFailover: true });
    expect(of(['--pace', '5'])).toEqual({ pace: 5, fastFailover: false });
    expect(of(['--pace', '5', '--fast-failover', 'on'])).toEqual({ pace: 5, fastFailover: true });
    expect(of(['--fast-failover', 'off'])).toEqual({ pace: 1, fastFailover: false });
    for (const name of ['start', 'serve', 'scenario']) {
      const names = findCommand(name)!.options.map((o) => o.name);
      expect(names).toEqual(expect.arrayContaining(['pace', 'fast-failover']));
    }
  });

  it('check: Jepsen histories with known verdicts, and a bad file', async () => {
    const fixtures = join(ROOT, 'test/fixtures/jepsen-etcd');
    const garbage = join(tmp, 'garbage.txt');
    writeFileSync(garbage, 'this is not a history\nat all\n');
    const badJson = join(tmp, 'bad.json');
    writeFileSync(
      badJson,
      '{\n  "format": "raftdeck-history",\n  "version": 1,\n  "operations": [\n    {"id": 1, "client": "a", "op": "get", "key": "k", "invoke": "soon", "outcome": "ok"}\n  ]\n}\n',
    );
    const [ok, bad, junk, field] = await Promise.all([
      runCli(['check', join(fixtures, 'etcd_002.log')]),
      runCli(['check', join(fixtures, 'etcd_000.log'), '--format', 'jepsen']),
      runCli(['check', garbage]),
      runCli(['check', badJson]),
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/linearizable/);
    expect(bad.code, bad.stderr).toBe(1);
    expect(bad.stdout).toMatch(/NOT linearizable/);
    expect(bad.stdout).toMatch(/key: register/);
    expect(bad.stdout).toMatch(/failing window:\nID\s+CLIENT\s+CALL/);
    expect(bad.stdout).toMatch(/stuck/);
    expect(junk.code).toBe(2);
    expect(junk.stderr).toMatch(/no jepsen\.util events/);
    expect(field.code).toBe(2);
    expect(field.stderr).toMatch(/line 5.*operations\[0\]\.invoke/);
  });

  it('scenario --list', async () => {
    const r = await runCli(['scenario', '--list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/leader-crash/);
    const j = await runCli(['scenario', '--list', '--json']);
    const list = JSON.parse(j.stdout) as { name: string }[];
    expect(list.length).toBeGreaterThan(3);
  });
});
