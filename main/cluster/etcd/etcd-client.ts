/**
 * etcd-client opens gRPC clients (the npm `etcd3` library) on etcd members for raftdeck's own
 * code: status polls, membership calls and the key-value session. The library's default fault
 * handling retries a call up to three times and stops calling a host for seconds after three
 * failures; here every call is made exactly once, on one endpoint picked by the library among
 * those given, and the caller decides whether and where to try again (a write whose outcome is
 * unknown must never be sent a second time).
 */
import { readFileSync } from 'node:fs';
import { Etcd3, type IOptions } from 'etcd3';

/** EtcdTls: the certificates of a TLS connection (PEM); a missing `ca` means the system's roots. */
export interface EtcdTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** EtcdAuth: a user of etcd's authentication. */
export interface EtcdAuth {
  user: string;
  password: string;
}

/** EtcdClientOptions: where to connect and how. */
export interface EtcdClientOptions {
  /** endpoints: full client URLs, all http:// or all https:// (etcd3 refuses a mix). */
  endpoints: string[];
  tls?: EtcdTls;
  auth?: EtcdAuth;
  /**
   * dialTimeoutMs: the deadline of a call that names none of its own (the library has no separate
   * connect timeout: a call to a host that does not answer waits for its deadline).
   */
  dialTimeoutMs: number;
}

type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

const never = new AbortController().signal;
const noEvent = (): { dispose(): void } => ({ dispose: () => undefined });

/** once: a fault-handling policy that runs the call once (no retry, no circuit breaker). */
const once = {
  execute: <T>(fn: (ctx: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> =>
    Promise.resolve().then(() => fn({ signal: never })),
  onSuccess: noEvent,
  onFailure: noEvent,
} as unknown as Policy;

/** checkEndpoint: a full http(s) URL of host:port, else an error naming it. */
function checkEndpoint(url: string): void {
  // a member's Unix socket (a local cluster raftdeck runs): unix:///absolute/path
  if (url.startsWith('unix:///')) return;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(
      `etcd endpoint ${JSON.stringify(url)} is not a URL (expected http://host:port or https://host:port)`,
    );
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.port === '' || u.hostname === '') {
    throw new TypeError(
      `etcd endpoint ${JSON.stringify(url)} must be http://host:port or https://host:port`,
    );
  }
}

/**
 * openEtcdClient opens an etcd3 client on `endpoints` whose calls are made once each (see the top
 * of this file). With `tls`, every endpoint must be https://; a client certificate needs both
 * `cert` and `key`. Close it with close() when done.
 */
export function openEtcdClient(options: EtcdClientOptions): Etcd3 {
  if (options.endpoints.length === 0)
    throw new TypeError('an etcd client needs at least one endpoint');
  for (const e of options.endpoints) checkEndpoint(e);
  const secure = options.endpoints.filter((e) => e.startsWith('https://')).length;
  if (secure !== 0 && secure !== options.endpoints.length) {
    throw new TypeError(
      `etcd endpoints mix http:// and https:// (${options.endpoints.join(', ')})`,
    );
  }
  const tls = options.tls;
  if (tls && secure === 0) {
    throw new TypeError(
      `TLS certificates given but the etcd endpoints are http:// (${options.endpoints.join(', ')})`,
    );
  }
  if (tls && (tls.cert === undefined) !== (tls.key === undefined)) {
    throw new TypeError('a TLS client certificate needs both the certificate and its key');
  }
  const dialTimeoutMs = options.dialTimeoutMs;
  return new Etcd3({
    hosts: options.endpoints,
    ...(tls
      ? {
          credentials: {
            // grpc takes null for "the system's roots"; the type insists on a Buffer.
            rootCertificate: (tls.ca ?? null) as Buffer,
            ...(tls.key ? { privateKey: tls.key } : {}),
            ...(tls.cert ? { certChain: tls.cert } : {}),
          },
        }
      : {}),
    ...(options.auth
      ? { auth: { username: options.auth.user, password: options.auth.password } }
      : {}),
    defaultCallOptions: () => ({ deadline: Date.now() + dialTimeoutMs }),
    faultHandling: { host: () => once, global: once },
  });
}

/** TlsFiles: paths of PEM files, as the command line names them. */
export interface TlsFiles {
  cacert?: string;
  cert?: string;
  key?: string;
}

/** readTlsFiles reads the named PEM files; an error names the file and what it was for. */
export function readTlsFiles(files: TlsFiles): EtcdTls {
  const read = (path: string | undefined, what: string): Buffer | undefined => {
    if (path === undefined) return undefined;
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch (e) {
      throw new Error(`cannot read the ${what} ${path}: ${(e as Error).message}`, { cause: e });
    }
    if (!data.toString('latin1').includes('-----BEGIN ')) {
      throw new Error(`the ${what} ${path} is not a PEM file (no "-----BEGIN" line)`);
    }
    return data;
  };
  const tls: EtcdTls = {};
  const ca = read(files.cacert, 'CA certificate (--cacert)');
  const cert = read(files.cert, 'client certificate (--cert)');
  const key = read(files.key, 'client key (--key)');
  if (ca) tls.ca = ca;
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  if ((cert === undefined) !== (key === undefined)) {
    throw new Error(
      `a client certificate needs both --cert and --key (got only ${cert ? '--cert' : '--key'})`,
    );
  }
  return tls;
}

/** hostOf: the "host:port" of a client URL (what KvExecution.servedBy names). */
export function hostOf(url: string): string {
  if (url.startsWith('unix://')) return url;
  return url.replace(/^https?:\/\//, '').replace(/\/+$/, '');
}

/** socketPathOf: the path of a `unix:///path` endpoint, undefined for http(s). */
export function socketPathOf(url: string): string | undefined {
  return url.startsWith('unix://') ? url.slice('unix://'.length) : undefined;
}
