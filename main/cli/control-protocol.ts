/**
 * control-protocol: the small local protocol between a running `raftdeck start` and the commands
 * that act on its cluster (faults, heal, membership). The client connects to 127.0.0.1:PORT from
 * DIR/control.json, sends one request as a line of JSON, and reads lines of JSON until the result:
 *
 *   → {"token":"…","cmd":"fault-kill","args":{"id":2}}
 *   ← {"type":"step","index":0,"name":"spawn empty node","state":"active","detail":"…","progress":null}
 *   ← {"type":"result","ok":true,"message":"killed node 2"}
 *
 * Steps come only from membership workflows, as each step changes. The connection then closes.
 * The request line must arrive within 2 s of connecting (see control-server.ts for every bound).
 */
import type { ClusterView, LinkRule, StepState, WorkflowKind } from '../contract/view';

/** MAX_REQUEST_BYTES bounds a request line. */
export const MAX_REQUEST_BYTES = 64 * 1024;

/** ControlRequest is what a client sends, one per connection. */
export type ControlRequest = { token: string } & ControlCommand;

/** ControlCommand is one thing the control port can do to the cluster. */
export type ControlCommand =
  | { cmd: 'kill' | 'stop' | 'restart' | 'pause' | 'resume' | 'isolate'; args: { id: number } }
  | { cmd: 'partition'; args: { groups: number[][] } }
  | { cmd: 'link-rule'; args: { id: number; rule: LinkRule } }
  | { cmd: 'slow-disk'; args: { id: number; ms: number } }
  | { cmd: 'heal' | 'clear-faults' | 'add-node' | 'stats' | 'view'; args: Record<string, never> }
  | { cmd: 'remove-node' | 'replace-node' | 'transfer-leader'; args: { id: number } }
  | { cmd: 'pace'; args: { pace: number; fastFailover: boolean } };

/** ControlStep is one workflow step as it changes. */
export interface ControlStep {
  type: 'step';
  kind: WorkflowKind;
  node: number;
  index: number;
  name: string;
  state: StepState;
  detail: string;
  progress: number | null;
}

/**
 * ControlResult ends every answer. `unknown` (with ok false): a membership change was made but
 * its outcome is not known — it may still take effect. `stats` answers with the ports' bounds and
 * counts in `stats`; `view` with the cluster's view (as the dashboard shows it) in `view`.
 */
export interface ControlResult {
  type: 'result';
  ok: boolean;
  unknown?: boolean;
  message: string;
  stats?: Record<string, unknown>;
  view?: ClusterView;
}

export type ControlMessage = ControlStep | ControlResult;
