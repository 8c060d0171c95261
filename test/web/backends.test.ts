// The backends the shell and browser mode open: --lab (or RAFTDECK_LAB=1) asks for a lab cluster
// instead of the cluster in the folder; a lab backend is the lab's dashboard (its view carries the
// lab) and touches no folder. An attached etcd backend (--attach, or the app's remembered attach)
// reaches a real TLS cluster, read-only, and the app keeps its URLs and paths but no secret.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  engineRequestOf,
  ATTACH_FILE,
  attachRequestOf,
  openBackend,
  openLabBackend,
  openRequestedAttach,
  rememberAttach,
  rememberedAttach,
  wantsLab,
} from '../../main/web/backends';
import { startEtcdCluster, type TestEtcdCluster } from '../cluster/etcd/etcd-harness';
import { haveEtcd } from '../etcd';

const dir = mkdtempSync(join(tmpdir(), 'raftdeck-backends-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('backends', () => {
  it('wants a lab for --lab or RAFTDECK_LAB=1, and only then', () => {
    expect(wantsLab(['node', 'app', '--lab'], {})).toBe(true);
    expect(wantsLab(['node', 'app'], { RAFTDECK_LAB: '1' })).toBe(true);
    expect(wantsLab(['node', 'app'], { RAFTDECK_LAB: '0' })).toBe(false);
    expect(wantsLab(['node', 'app', '--fake'], {})).toBe(false);
  });

  it('opens a lab cluster for a lab, writing nothing into the cluster folder', async () => {
    const folder = join(dir, 'cluster');
    const backend = await openBackend(folder, true);
    try {
      const v = await backend.api.getView();
      expect(v.lab?.seed).toBe(1);
      expect(v.nodes.map((n) => n.id)).toEqual([1, 2, 3]);
      expect(existsSync(folder)).toBe(false);
    } finally {
      await backend.dispose();
    }
  });

  it('opens a lab of the seed and size asked for', async () => {
    const backend = openLabBackend({ seed: 4, nodes: 5 });
    try {
      const v = await backend.api.getView();
      expect(v.lab?.source).toBe('seed 4');
      expect(v.nodes).toHaveLength(5);
    } finally {
      await backend.dispose();
    }
  });
});

describe('attached etcd backends', () => {
  it('read what to attach to from --attach or RAFTDECK_ATTACH, with certificate paths and user', () => {
    expect(attachRequestOf(['electron', '.'], {})).toBeNull();
    expect(
      attachRequestOf(['electron', '.', '--attach', 'https://a:2379, https://b:2379'], {}),
    ).toEqual({
      endpoints: ['https://a:2379', 'https://b:2379'],
    });
    expect(attachRequestOf(['electron', '.', '--attach=http://a:2379'], {})).toEqual({
      endpoints: ['http://a:2379'],
    });
    expect(
      attachRequestOf(['electron', '.'], {
        RAFTDECK_ATTACH: 'https://a:2379',
        RAFTDECK_ETCD_CACERT: '/c/ca.pem',
        RAFTDECK_ETCD_KEY: '/c/key.pem',
        RAFTDECK_ETCD_CERT: '/c/cert.pem',
        RAFTDECK_ETCD_USER: 'ops',
        RAFTDECK_ETCD_PASSWORD: 'not-kept',
      }),
    ).toEqual({
      endpoints: ['https://a:2379'],
      tls: { cacert: '/c/ca.pem', cert: '/c/cert.pem', key: '/c/key.pem' },
      user: 'ops',
    });
    expect(() => attachRequestOf(['electron', '.', '--attach', ' , '], {})).toThrow(
      /at least one etcd client URL/,
    );
  });

  it('remember the last attach without secrets, readable by the user only, and ignore a bad file', () => {
    const settings = join(dir, 'settings');
    expect(rememberedAttach(settings)).toBeNull();
    const request = {
      endpoints: ['https://a:2379'],
      tls: { cacert: '/c/ca.pem', cert: '/c/cert.pem', key: '/c/key.pem' },
      user: 'ops',
    };
    rememberAttach(settings, { ...request, password: 'secret' } as typeof request);
    expect(rememberedAttach(settings)).toEqual(request);
    const file = join(settings, ATTACH_FILE);
    expect(readFileSync(file, 'utf8')).not.toContain('secret');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    writeFileSync(file, '{"endpoints": "not a list"}');
    expect(rememberedAttach(settings)).toBeNull();
    writeFileSync(file, 'not json');
    expect(rememberedAttach(settings)).toBeNull();
  });

  describe('on a real etcd cluster with TLS and client certificates', () => {
    let cluster: TestEtcdCluster;
    beforeAll(async () => {
      cluster = await startEtcdCluster({ members: 3, tls: true, name: 'backends' });
    }, 90_000);
    afterAll(async () => {
      await cluster?.stop();
    });

    it('opens the members found from one URL, read-only, recording in memory', async () => {
      const certs = cluster.certs!;
      const backend = await openRequestedAttach(
        {
          endpoints: [cluster.endpoints[0]!],
          tls: { cacert: certs.ca, cert: certs.clientCert, key: certs.clientKey },
        },
        {},
      );
      try {
        const v = await backend.api.getView();
        expect(v.engine).toMatchObject({ kind: 'etcd', mode: 'attached' });
        expect(v.nodes.map((n) => n.id)).toEqual([1, 2, 3]);
        expect(v.leader).toBeGreaterThan(0);
        expect(v.engine.unavailable.removeNode).toMatch(/--allow-changes/);
        await expect(backend.api.removeNode(2)).rejects.toThrow(/read-only/);
        const recorded = await backend.api.recordingInfo();
        expect(recorded.path).toBe('(memory)');
      } finally {
        await backend.dispose();
      }
      expect(backend.engine.state).toBe('stopped');
    });

    it('refuses a user without RAFTDECK_ETCD_PASSWORD, and a certificate file that is missing', async () => {
      await expect(
        openRequestedAttach({ endpoints: [cluster.endpoints[0]!], user: 'ops' }, {}),
      ).rejects.toThrow('etcd user ops needs a password: set RAFTDECK_ETCD_PASSWORD');
      await expect(
        openRequestedAttach(
          { endpoints: [cluster.endpoints[0]!], tls: { cacert: join(dir, 'nope.pem') } },
          {},
        ),
      ).rejects.toThrow(/cannot read the CA certificate \(--cacert\) .*nope\.pem/);
    });
  });
});

describe('the engine of the app’s cluster', () => {
  it('reads the engine asked for from RAFTDECK_ENGINE, and refuses another name', () => {
    expect(engineRequestOf({})).toEqual({});
    expect(engineRequestOf({ RAFTDECK_ENGINE: 'etcd', RAFTDECK_ETCD_BIN: '/opt/etcd' })).toEqual({
      engine: 'etcd',
      etcdBin: '/opt/etcd',
    });
    expect(() => engineRequestOf({ RAFTDECK_ENGINE: 'zookeeper' })).toThrow(/zookeeper/);
  });

  it.skipIf(!haveEtcd)(
    'opens a local etcd cluster for --engine etcd, and the same folder again without it',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'raftdeck-app-etcd-'));
      const pids: number[] = [];
      try {
        const first = await openBackend(dir, false, { engine: 'etcd' });
        try {
          const v = await first.api.getView();
          expect(v.engine).toMatchObject({ kind: 'etcd', mode: 'local' });
          expect(v.nodes).toHaveLength(3);
          pids.push(...v.nodes.map((n) => n.process.pid!).filter(Boolean));
        } finally {
          await first.dispose();
        }
        // the folder keeps its engine: a later start without the flag brings etcd back
        const again = await openBackend(dir, false);
        try {
          expect((await again.api.getView()).engine.kind).toBe('etcd');
          const v = await again.api.getView();
          pids.push(...v.nodes.map((n) => n.process.pid!).filter(Boolean));
        } finally {
          await again.dispose();
        }
        await expect(openBackend(dir, false, { engine: 'raftdeck' })).rejects.toThrow(/etcd/);
      } finally {
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // stopped already
          }
        }
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
