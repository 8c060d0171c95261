// The dashboard and the nodes each hold the pace's figures (the contract may not import the node,
// nor the node the contract); they must agree, or the Topology view would time dots wrongly and
// offer paces the nodes refuse.
import { describe, expect, it } from 'vitest';
import * as contract from '../../main/contract/view';
import * as node from '../../main/node/transport/pace';

describe('the pace as the dashboard and the nodes know it', () => {
  it('holds messages for the same time per unit of pace and accepts the same paces', () => {
    expect(contract.MESSAGE_FLIGHT_MS).toBe(node.MESSAGE_FLIGHT_MS);
    expect(contract.MAX_PACE).toBe(node.MAX_PACE);
    for (const p of contract.PACES) expect(node.isPace(p)).toBe(true);
  });
});
