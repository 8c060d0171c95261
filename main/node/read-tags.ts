import { MAX_RAFT_NUMBER } from '../raft/types';

/**
 * ReadTags hands out the tags of linearizable reads (the ctx of Raft.readIndex). A follower's
 * read is answered by the leader under its tag, possibly late, so a tag must not repeat across
 * restarts of the node: a slow answer to a read of the previous process would otherwise serve a
 * read of this one, with an older read index (a stale read). Nothing is written to disk for that:
 * each process starts at a random point of [1, MAX_RAFT_NUMBER] (52 random bits) and counts up
 * from there, wrapping to 1. Two processes can only reuse a tag if the ranges they used overlap,
 * which for a billion reads each happens with a chance below one in two million, and a reused tag
 * matters only if a late answer for it is still on its way.
 */
export class ReadTags {
  private next: number;

  constructor(start: number = randomStart()) {
    if (!Number.isSafeInteger(start) || start < 1 || start > MAX_RAFT_NUMBER) {
      throw new RangeError(`read tag start ${start} is not from 1 to ${MAX_RAFT_NUMBER}`);
    }
    this.next = start;
  }

  /** take returns a tag not handed out before by this process (until 2^52 reads wrap it). */
  take(): number {
    const tag = this.next;
    this.next = tag >= MAX_RAFT_NUMBER ? 1 : tag + 1;
    return tag;
  }
}

/**
 * randomStart draws a start in [1, MAX_RAFT_NUMBER]: 26 random bits from each of two 32-bit words
 * of the platform's cryptographic generator (Web Crypto, the same in Node and in a browser, so the
 * module imports nothing and the simulated cluster can use it with a seeded start).
 */
function randomStart(): number {
  const w = crypto.getRandomValues(new Uint32Array(2));
  return (w[0]! >>> 6) * 2 ** 26 + (w[1]! >>> 6) + 1;
}
