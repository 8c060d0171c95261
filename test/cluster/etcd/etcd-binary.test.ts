import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  EtcdMissing,
  EtcdUnsupported,
  findEtcd,
  onPath,
} from '../../../main/cluster/etcd/etcd-binary';

const dir = mkdtempSync(join(tmpdir(), 'raftdeck-etcd-bin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** fake writes an executable script that prints `out` for --version and exits with `code`. */
function fake(name: string, out: string, code = 0): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\nprintf '%s\\n' '${out}'\nexit ${code}\n`);
  chmodSync(p, 0o755);
  return p;
}

describe('findEtcd', () => {
  it('finds the etcd on PATH and reads its version', () => {
    const b = findEtcd();
    expect(b.path).toBe(onPath('etcd'));
    expect(b.version).toMatch(/^3\.[45]\.\d+/);
    expect(`${b.major}.${b.minor}`).toMatch(/^3\.[45]$/);
  });

  it('says how to install etcd when the named binary does not exist', () => {
    const missing = join(dir, 'no-such-etcd');
    expect(() => findEtcd(missing)).toThrow(EtcdMissing);
    expect(() => findEtcd(missing)).toThrow(/etcd was not found .*no-such-etcd/);
    expect(() => findEtcd(missing)).toThrow(/apt-get install etcd-server/);
    expect(() => findEtcd(missing)).toThrow(/--etcd-bin PATH/);
  });

  it('says how to install etcd when there is none on PATH', () => {
    const saved = process.env.PATH;
    process.env.PATH = dir;
    try {
      expect(() => findEtcd()).toThrow(/no etcd on PATH.*apt-get install etcd-server/);
    } finally {
      process.env.PATH = saved;
    }
  });

  it('refuses another version, naming it and what is supported', () => {
    const old = fake('etcd-3.3', 'etcd Version: 3.3.25');
    expect(() => findEtcd(old)).toThrow(EtcdUnsupported);
    expect(() => findEtcd(old)).toThrow(/etcd 3\.3\.25; raftdeck supports etcd 3\.4 and 3\.5/);
    const next = fake('etcd-3.6', 'etcd Version: 3.6.0');
    expect(() => findEtcd(next)).toThrow(/etcd 3\.6\.0/);
  });

  it('accepts 3.5 from a binary that prints it', () => {
    const b = findEtcd(fake('etcd-3.5', 'etcd Version: 3.5.17'));
    expect(b).toMatchObject({ version: '3.5.17', major: 3, minor: 5 });
  });

  it('refuses a program that prints no etcd version, quoting what it printed', () => {
    const other = fake('not-etcd', 'hello there');
    expect(() => findEtcd(other)).toThrow(/did not print an etcd version.*hello there/);
    const failing = fake('failing-etcd', 'etcd Version: 3.4.23', 3);
    expect(() => findEtcd(failing)).toThrow(/exit 3/);
  });
});
