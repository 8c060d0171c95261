// Test files run in parallel workers, and many of them kill a node and restart it on the same
// ports. A port freed by the kill must not be handed to another file's new node in that moment,
// so each worker (and every process it starts, which inherits the environment) picks ports from
// its own slice of the default range.
import { DEFAULT_PORT_RANGE } from '../../main/cluster/manifest';

const SLICES = 8;
const pool = Number(process.env.VITEST_POOL_ID ?? '1');
const width = Math.floor((DEFAULT_PORT_RANGE.hi - DEFAULT_PORT_RANGE.lo + 1) / SLICES);
const lo = DEFAULT_PORT_RANGE.lo + ((((pool - 1) % SLICES) + SLICES) % SLICES) * width;
process.env.RAFTDECK_PORT_RANGE = `${lo}-${lo + width - 1}`;
