/**
 * etcd-log turns the zap JSON lines an etcd member logs (--logger=zap) into events of the
 * cluster's stream, worded like raftdeck's own (main/cluster/narration.ts). Pure: one record in,
 * at most one event out; no I/O, no clock.
 *
 * Two sources inside etcd write them: its Raft library, whose `msg` is a sentence that starts
 * with the member's id in hex ("3a57933972cb5131 became candidate at term 3"), and the server,
 * whose `msg` is a fixed phrase with the figures in fields ("sending database snapshot",
 * remote-peer-id, bytes). Member ids are turned into raftdeck's node ids by `names`; an id it
 * does not know is shown as "member <hex>". Lines that say nothing the dashboard shows (stream
 * connections, each vote request sent, start-up chatter) give null. The formats were read from
 * etcd 3.4 (samples in test/fixtures/etcd-log).
 */
import type { EventKind, NodeId } from '../../contract/view';

/** EtcdRole: the roles etcd's Raft logs transitions to. */
export type EtcdRole = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** EtcdLogEvent: one event read from an etcd log line. */
export interface EtcdLogEvent {
  kind: EventKind;
  message: string;
  term?: number;
  role?: EtcdRole;
  data?: Record<string, unknown>;
}

/** MemberNames maps an etcd member id (lower-case hex) to the node id raftdeck shows, or null. */
export type MemberNames = (memberIdHex: string) => NodeId | null;

const HEX = '([0-9a-f]{1,16})';
const VOTE = '(MsgVote|MsgPreVote)';

const ROLE_RE = new RegExp(
  `^${HEX} became (follower|pre-candidate|candidate|leader) at term (\\d+)$`,
);
const VOTE_RESP_RE = new RegExp(
  `^${HEX} received (MsgVoteResp|MsgPreVoteResp)( rejection)? from ${HEX} at term (\\d+)$`,
);
const CAST_RE = new RegExp(
  `^${HEX} \\[[^\\]]*\\] cast ${VOTE} for ${HEX} \\[[^\\]]*\\] at term (\\d+)$`,
);
const REJECT_RE = new RegExp(
  `^${HEX} \\[logterm: (\\d+), index: (\\d+), vote: ${HEX}\\] rejected ${VOTE} from ${HEX} \\[logterm: (\\d+), index: (\\d+)\\] at term (\\d+)$`,
);
const IGNORE_RE = new RegExp(
  `^${HEX} \\[[^\\]]*\\] ignored ${VOTE} from ${HEX} \\[[^\\]]*\\] at term (\\d+): lease is not expired`,
);
const TALLY_RE = new RegExp(
  `^${HEX} has received (\\d+) (MsgVoteResp|MsgPreVoteResp) votes and (\\d+) vote rejections$`,
);
const ELECTED_RE = new RegExp(`^raft\\.node: ${HEX} elected leader ${HEX} at term (\\d+)$`);
const LOST_RE = new RegExp(`^raft\\.node: ${HEX} lost leader ${HEX} at term (\\d+)$`);
const CHANGED_RE = new RegExp(
  `^raft\\.node: ${HEX} changed leader from ${HEX} to ${HEX} at term (\\d+)$`,
);
const STEP_DOWN_RE = new RegExp(`^${HEX} stepped down to follower since quorum is not active$`);
const CONF_RE = new RegExp(`^${HEX} switched to configuration (voters=\\(([^)]*)\\).*)$`);

/**
 * parseEtcdLog reads one zap record of an etcd member. `self` is the member that wrote it: it
 * names the subject of server lines that do not carry the member's own id.
 */
export function parseEtcdLog(
  record: Record<string, unknown>,
  names: MemberNames,
  self?: NodeId | null,
): EtcdLogEvent | null {
  const msg = typeof record.msg === 'string' ? record.msg : '';
  if (!msg) return null;
  const who = (hex: string): string => {
    const id = names(hex.toLowerCase());
    return id !== null ? `node ${id}` : `member ${hex}`;
  };
  const node = (hex: string): NodeId | null => names(hex.toLowerCase());
  const str = (k: string): string | undefined =>
    typeof record[k] === 'string' ? (record[k] as string) : undefined;
  const num = (k: string): number | undefined =>
    typeof record[k] === 'number' && Number.isFinite(record[k]) ? (record[k] as number) : undefined;
  const local = str('local-member-id');
  const me = local !== undefined ? who(local) : self != null ? `node ${self}` : 'this member';

  let m: RegExpExecArray | null;
  if ((m = ROLE_RE.exec(msg))) {
    const role = m[2] as EtcdRole;
    const term = Number(m[3]);
    const data = { member: m[1] };
    if (role === 'leader') {
      return {
        kind: 'leader',
        role,
        term,
        message: `${who(m[1]!)} became leader of term ${term}`,
        data,
      };
    }
    if (role === 'pre-candidate') {
      // A pre-candidate asks whether it could win term+1 without raising its own term.
      return {
        kind: 'election',
        role,
        term,
        message: `${who(m[1]!)} asks for pre-votes for term ${term + 1}`,
        data,
      };
    }
    if (role === 'candidate') {
      return {
        kind: 'election',
        role,
        term,
        message: `${who(m[1]!)} campaigns for term ${term}`,
        data,
      };
    }
    return { kind: 'role', role, term, message: `${who(m[1]!)} is follower in term ${term}`, data };
  }
  if ((m = VOTE_RESP_RE.exec(msg))) {
    const pre = m[2] === 'MsgPreVoteResp';
    const rejected = m[3] !== undefined;
    const term = Number(m[5]);
    // A pre-candidate logs its own term; its pre-votes are for the next one.
    const forTerm = pre ? term + 1 : term;
    const what = pre ? 'pre-vote' : 'vote';
    const data = {
      candidate: node(m[1]!),
      voter: node(m[4]!),
      granted: !rejected,
      prevote: pre,
      forTerm,
    };
    if (m[1] === m[4]) {
      return {
        kind: 'vote',
        term,
        message: `${who(m[1]!)} gives itself a ${what} for term ${forTerm}`,
        data,
      };
    }
    return {
      kind: 'vote',
      term,
      message: `${who(m[1]!)} ${rejected ? 'was refused' : 'received'} a ${what} ${rejected ? 'by' : 'from'} ${who(m[4]!)} for term ${forTerm}`,
      data,
    };
  }
  if ((m = CAST_RE.exec(msg))) {
    const pre = m[2] === 'MsgPreVote';
    const term = Number(m[4]);
    return {
      kind: 'vote',
      term,
      message: `${who(m[1]!)} granted ${pre ? 'a pre-vote' : 'its vote'} to ${who(m[3]!)} ${pre ? 'in' : 'for'} term ${term}`,
      data: { voter: node(m[1]!), candidate: node(m[3]!), granted: true, prevote: pre },
    };
  }
  if ((m = REJECT_RE.exec(msg))) {
    const [, voterHex, ownTerm, ownIndex, votedHex, type, candHex, candTerm, candIndex, t] = m;
    const pre = type === 'MsgPreVote';
    const term = Number(t);
    // Why, from the figures etcd logs: a vote already given to another, a log behind the
    // voter's (last term, then last index), or else a leader the voter still knows.
    const behind =
      Number(candTerm) < Number(ownTerm) ||
      (Number(candTerm) === Number(ownTerm) && Number(candIndex) < Number(ownIndex));
    const reason =
      votedHex !== '0' && votedHex !== candHex
        ? `it voted for ${who(votedHex!)}`
        : behind
          ? "the candidate's log is behind its own"
          : 'it knows a leader';
    return {
      kind: 'vote',
      term,
      message: `${who(voterHex!)} refused ${pre ? 'a pre-vote' : 'its vote'} to ${who(candHex!)} ${pre ? 'in' : 'for'} term ${term}: ${reason}`,
      data: { voter: node(voterHex!), candidate: node(candHex!), granted: false, prevote: pre },
    };
  }
  if ((m = IGNORE_RE.exec(msg))) {
    const pre = m[2] === 'MsgPreVote';
    const term = Number(m[4]);
    return {
      kind: 'vote',
      term,
      message: `${who(m[1]!)} ignored a ${pre ? 'pre-vote' : 'vote'} request from ${who(m[3]!)} in term ${term}: it still hears from its leader`,
      data: { voter: node(m[1]!), candidate: node(m[3]!), granted: false, prevote: pre },
    };
  }
  if ((m = TALLY_RE.exec(msg))) {
    const pre = m[3] === 'MsgPreVoteResp';
    const votes = Number(m[2]);
    const rejections = Number(m[4]);
    return {
      kind: 'vote',
      message: `${who(m[1]!)} has ${votes} ${pre ? 'pre-votes' : 'votes'} and ${rejections} refusals`,
      data: { candidate: node(m[1]!), votes, rejections, prevote: pre },
    };
  }
  if ((m = ELECTED_RE.exec(msg))) {
    // Every member logs it, the leader too; "became leader" already says it for the leader.
    if (m[1] === m[2]) return null;
    const term = Number(m[3]);
    return {
      kind: 'leader',
      term,
      message: `${who(m[1]!)} follows leader ${who(m[2]!)} in term ${term}`,
      data: { leader: node(m[2]!) },
    };
  }
  if ((m = LOST_RE.exec(msg))) {
    const term = Number(m[3]);
    return {
      kind: 'leader',
      term,
      message: `${who(m[1]!)} lost leader ${who(m[2]!)} in term ${term}`,
      data: { leader: node(m[2]!) },
    };
  }
  if ((m = CHANGED_RE.exec(msg))) {
    const term = Number(m[4]);
    return {
      kind: 'leader',
      term,
      message: `${who(m[1]!)} changed leader from ${who(m[2]!)} to ${who(m[3]!)} in term ${term}`,
      data: { previous: node(m[2]!), leader: node(m[3]!) },
    };
  }
  if ((m = STEP_DOWN_RE.exec(msg))) {
    return {
      kind: 'leader',
      role: 'follower',
      message: `${who(m[1]!)} stepped down: it has not heard from a quorum within an election timeout`,
      // the same data as raftdeck's own step-down event, so scenarios read both alike
      data: { type: 'step-down', reason: 'check-quorum' },
    };
  }
  if ((m = CONF_RE.exec(msg))) {
    if (m[3]!.trim() === '') return null; // the empty configuration a member starts from
    // The configuration names members by their ids in decimal.
    const list = (s: string | undefined): string =>
      (s ?? '')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map((d) => {
          const hex = decimalToHex(d);
          const id = hex !== undefined ? names(hex) : null;
          return id !== null ? String(id) : hex !== undefined ? `member ${hex}` : d;
        })
        .join(', ');
    const learners = /learners=\(([^)]*)\)/.exec(m[2]!)?.[1];
    return {
      kind: 'config',
      message: `${who(m[1]!)} applies config: voters [${list(m[3])}] learners [${list(learners)}]`,
    };
  }

  switch (msg) {
    case 'added member': {
      const peer = str('added-peer-id');
      if (!peer) return null;
      const urls = Array.isArray(record['added-peer-peer-urls'])
        ? (record['added-peer-peer-urls'] as unknown[]).filter((u) => typeof u === 'string')
        : [];
      return {
        kind: 'config',
        message: `${me} added member ${who(peer)}${urls.length > 0 ? ` (${urls.join(', ')})` : ''}`,
        data: { member: node(peer), memberId: peer, peerUrls: urls },
      };
    }
    case 'removed member': {
      const peer = str('removed-remote-peer-id');
      if (!peer) return null;
      return {
        kind: 'config',
        message: `${me} removed member ${who(peer)}`,
        data: { member: node(peer), memberId: peer },
      };
    }
    case 'promote member': {
      const peer = str('promoted-member-id');
      return {
        kind: 'config',
        message: peer
          ? `${me} promoted ${who(peer)} to voter`
          : `${me} promoted a learner to voter`,
        data: peer ? { member: node(peer), memberId: peer } : {},
      };
    }
    case 'server error': {
      const err = str('error') ?? '';
      if (!err.includes('permanently removed')) return null;
      return {
        kind: 'config',
        message: `${me} learnt that it was removed from the cluster; it shuts down`,
      };
    }
    case 'sending database snapshot':
    case 'sent database snapshot':
    case 'failed to send database snapshot': {
      const to = str('remote-peer-id');
      const index = num('snapshot-index');
      const bytes = num('bytes');
      const size = bytes !== undefined ? ` (${formatBytes(bytes)})` : '';
      const target = to ? ` to ${who(to)}` : '';
      const message =
        msg === 'sending database snapshot'
          ? `${me} sends snapshot ${index ?? '?'}${size}${target}`
          : msg === 'sent database snapshot'
            ? `${me} finished sending snapshot ${index ?? '?'}${size}${target}`
            : `${me} failed to send snapshot ${index ?? '?'}${target}: ${str('error') ?? 'unknown error'}`;
      return {
        kind: 'snapshot',
        message,
        data: { to: to ? node(to) : null, index: index ?? null, bytes: bytes ?? null },
      };
    }
    case 'receiving database snapshot':
    case 'received and saved database snapshot': {
      const from = str('remote-snapshot-sender-id');
      const index = num('incoming-snapshot-index');
      const bytes = num('incoming-snapshot-size-bytes');
      const took = goDurationMs(str('download-took'));
      const source = from ? ` from ${who(from)}` : '';
      const message =
        msg === 'receiving database snapshot'
          ? `${me} receives snapshot ${index ?? '?'}${source}`
          : `${me} received snapshot ${index ?? '?'}${source}${bytes !== undefined ? `: ${formatBytes(bytes)}` : ''}${took !== undefined ? ` in ${formatMs(took)}` : ''}`;
      return {
        kind: 'snapshot',
        message,
        data: { from: from ? node(from) : null, index: index ?? null, bytes: bytes ?? null },
      };
    }
    case 'applied snapshot': {
      const index = num('current-snapshot-index') ?? num('incoming-leader-snapshot-index');
      return {
        kind: 'snapshot',
        message: `${me} installed snapshot ${index ?? '?'}`,
        data: { index: index ?? null },
      };
    }
    case 'saved snapshot': {
      const index = num('snapshot-index');
      return {
        kind: 'snapshot',
        message: `${me} took a snapshot at ${index ?? '?'}`,
        data: { index: index ?? null },
      };
    }
    case 'slow fdatasync': {
      const took = goDurationMs(str('took'));
      const expected = goDurationMs(str('expected-duration'));
      return {
        kind: 'storage',
        message: `${me}: slow fdatasync of the WAL: ${took !== undefined ? formatMs(took) : '?'}${expected !== undefined ? ` (expected under ${formatMs(expected)})` : ''}`,
        data: { tookMs: took ?? null, expectedMs: expected ?? null },
      };
    }
    case 'apply request took too long': {
      const took = goDurationMs(str('took'));
      const expected = goDurationMs(str('expected-duration'));
      const what = (str('prefix') ?? '').trim();
      return {
        kind: 'storage',
        message: `${me}: applying a ${what ? `${what} ` : ''}request took ${took !== undefined ? formatMs(took) : '?'}${expected !== undefined ? ` (expected under ${formatMs(expected)})` : ''}`,
        data: { tookMs: took ?? null, expectedMs: expected ?? null },
      };
    }
    default:
      if (msg.startsWith('leader failed to send out heartbeat on time')) {
        const to = str('to');
        const late = goDurationMs(str('exceeded-duration'));
        return {
          kind: 'storage',
          message: `${me} sent a heartbeat${to ? ` to ${who(to)}` : ''} ${late !== undefined ? `${formatMs(late)} ` : ''}late: the leader is overloaded, likely by a slow disk`,
          data: { to: to ? node(to) : null, lateMs: late ?? null },
        };
      }
      return null;
  }
}

/** decimalToHex: an etcd member id written in decimal, in lower-case hex (undefined if not a uint64). */
export function decimalToHex(d: string): string | undefined {
  if (!/^\d{1,20}$/.test(d)) return undefined;
  const n = BigInt(d);
  return n < 1n << 64n ? n.toString(16) : undefined;
}

/** goDurationMs reads a Go duration ("1.31s", "24.6ms", "1m2s", "850µs") in milliseconds. */
export function goDurationMs(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const units: Record<string, number> = {
    h: 3_600_000,
    m: 60_000,
    s: 1000,
    ms: 1,
    us: 0.001,
    µs: 0.001,
    μs: 0.001,
    ns: 0.000001,
  };
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|μs|ns)/gy;
  let total = 0;
  let at = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    total += Number(m[1]) * units[m[2]!]!;
    at = re.lastIndex;
  }
  return at > 0 && at === s.length ? total : undefined;
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

function formatBytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} bytes`;
}
