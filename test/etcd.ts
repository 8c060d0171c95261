/**
 * etcd: whether the tests that run real etcd processes can run here. They need the `etcd` binary
 * on PATH (Debian: apt-get install etcd-server, which CI's .ci/run installs); without it they are
 * skipped with a message, and in CI its absence fails the run at once.
 */
import { onPath } from '../main/cluster/etcd/etcd-binary';

/** haveEtcd: the etcd binary is on PATH. */
export const haveEtcd = onPath('etcd') !== undefined;
if (!haveEtcd) {
  if (process.env.CI)
    throw new Error('etcd is required in CI: no etcd on PATH (apt-get install etcd-server)');
  process.stderr.write(
    'etcd is not on PATH: the tests of the etcd engine are skipped (apt-get install etcd-server)\n',
  );
}
