import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostOf, openEtcdClient, readTlsFiles } from '../../../main/cluster/etcd/etcd-client';

const dir = mkdtempSync(join(tmpdir(), 'raftdeck-etcd-client-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pem = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';

describe('readTlsFiles', () => {
  it('reads the PEM files it is given', () => {
    writeFileSync(join(dir, 'ca.pem'), pem);
    writeFileSync(join(dir, 'c.pem'), pem);
    writeFileSync(join(dir, 'k.pem'), pem);
    const tls = readTlsFiles({
      cacert: join(dir, 'ca.pem'),
      cert: join(dir, 'c.pem'),
      key: join(dir, 'k.pem'),
    });
    expect(tls.ca?.toString()).toBe(pem);
    expect(tls.cert?.toString()).toBe(pem);
    expect(tls.key?.toString()).toBe(pem);
    expect(readTlsFiles({})).toEqual({});
  });

  it('names the file and its role when it cannot be read or is no PEM', () => {
    const missing = join(dir, 'missing.pem');
    expect(() => readTlsFiles({ cacert: missing })).toThrow(
      `cannot read the CA certificate (--cacert) ${missing}`,
    );
    writeFileSync(join(dir, 'der.bin'), Buffer.from([0x30, 0x82, 0x01]));
    expect(() => readTlsFiles({ key: join(dir, 'der.bin'), cert: join(dir, 'c.pem') })).toThrow(
      `the client key (--key) ${join(dir, 'der.bin')} is not a PEM file`,
    );
    expect(() => readTlsFiles({ cert: join(dir, 'c.pem') })).toThrow(/needs both --cert and --key/);
  });
});

describe('openEtcdClient', () => {
  it('refuses endpoints that are not full http(s) URLs, or a mix of both', () => {
    const open = (endpoints: string[]): unknown =>
      openEtcdClient({ endpoints, dialTimeoutMs: 100 });
    expect(() => open([])).toThrow(/at least one endpoint/);
    expect(() => open(['127.0.0.1:2379'])).toThrow(/"127\.0\.0\.1:2379" is not a URL/);
    expect(() => open(['http://127.0.0.1'])).toThrow(/must be http:\/\/host:port/);
    expect(() => open(['http://127.0.0.1:1', 'https://127.0.0.1:2'])).toThrow(/mix http/);
    expect(() =>
      openEtcdClient({ endpoints: ['http://127.0.0.1:1'], tls: {}, dialTimeoutMs: 100 }),
    ).toThrow(/TLS certificates given but the etcd endpoints are http/);
    const c = openEtcdClient({ endpoints: ['http://127.0.0.1:1'], dialTimeoutMs: 100 });
    c.close();
  });

  it('makes each call once: a refused endpoint fails at once, with no retry', async () => {
    const c = openEtcdClient({ endpoints: ['http://127.0.0.1:1'], dialTimeoutMs: 5000 });
    const t0 = Date.now();
    await expect(c.maintenance.status()).rejects.toThrow(/ECONNREFUSED 127\.0\.0\.1:1/);
    // The library's default policy retries three times with backoff, and then opens a breaker
    // that refuses calls for 5 s with its own error instead of the connection's.
    await expect(c.maintenance.status()).rejects.toThrow(/ECONNREFUSED/);
    await expect(c.maintenance.status()).rejects.toThrow(/ECONNREFUSED/);
    await expect(c.maintenance.status()).rejects.toThrow(/ECONNREFUSED/);
    expect(Date.now() - t0).toBeLessThan(4000);
    c.close();
  });

  it('hostOf gives the host:port of a URL', () => {
    expect(hostOf('https://127.0.0.1:2379')).toBe('127.0.0.1:2379');
    expect(hostOf('http://127.0.0.1:2379/')).toBe('127.0.0.1:2379');
  });
});
