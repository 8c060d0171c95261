/**
 * msgpack-guard checks the token structure of a msgpack body before it reaches the msgpack
 * Decoder. The Decoder allocates an array of the announced size as soon as it reads an array
 * header, so a few bytes announcing deeply nested large arrays could make it allocate far more
 * memory than the frame holds. The guard walks the tokens without building any values and rejects,
 * with the byte offset of the offending token:
 *  - nesting deeper than `maxDepth`;
 *  - a container announcing more items than bytes remain (every item takes at least one byte);
 *  - arrays, maps, strings and binaries longer than the limits;
 *  - nil, floats, extension types and the never-used byte 0xc1 (the protocol has none of them);
 *  - a truncated body or trailing bytes after the first value.
 */

/** MsgpackGuardLimits bounds what a body may contain. */
export interface MsgpackGuardLimits {
  maxDepth: number;
  maxArrayLength: number;
  maxMapLength: number;
  maxStrLength: number;
  maxBinLength: number;
}

/**
 * checkMsgpackStructure returns undefined when `b` holds exactly one well-formed msgpack value
 * within `limits`, else a reason naming the byte offset.
 */
export function checkMsgpackStructure(
  b: Uint8Array,
  limits: MsgpackGuardLimits,
): string | undefined {
  const end = b.length;
  // open[d] = items still to read in the container open at depth d (maps count keys and values).
  const open: number[] = [];
  let pos = 0;
  // pending = items still to read in all open containers, plus the top-level value if unread.
  let pending = 1;
  while (pending > 0) {
    if (pos >= end) return `truncated: body ends at byte ${end} with ${pending} item(s) unread`;
    const start = pos;
    const h = b[pos++];
    let items = 0;
    let skip = 0;
    let kind = '';
    let limit = 0;
    if (h <= 0x7f || h >= 0xe0) {
      // fixint
    } else if (h <= 0x8f) {
      items = (h - 0x80) * 2;
      kind = 'map';
      limit = limits.maxMapLength * 2;
    } else if (h <= 0x9f) {
      items = h - 0x90;
      kind = 'array';
      limit = limits.maxArrayLength;
    } else if (h <= 0xbf) {
      skip = h - 0xa0;
      kind = 'str';
      limit = limits.maxStrLength;
    } else {
      switch (h) {
        case 0xc2:
        case 0xc3:
          break;
        case 0xcc:
        case 0xd0:
          pos += 1;
          break;
        case 0xcd:
        case 0xd1:
          pos += 2;
          break;
        case 0xce:
        case 0xd2:
          pos += 4;
          break;
        case 0xcf:
        case 0xd3:
          pos += 8;
          break;
        case 0xd9:
        case 0xc4:
          if (pos + 1 > end) return truncated(start, end);
          skip = b[pos];
          pos += 1;
          kind = h === 0xd9 ? 'str' : 'bin';
          limit = h === 0xd9 ? limits.maxStrLength : limits.maxBinLength;
          break;
        case 0xda:
        case 0xc5:
        case 0xdc:
        case 0xde:
          if (pos + 2 > end) return truncated(start, end);
          skip = (b[pos] << 8) | b[pos + 1];
          pos += 2;
          break;
        case 0xdb:
        case 0xc6:
        case 0xdd:
        case 0xdf:
          if (pos + 4 > end) return truncated(start, end);
          skip = b[pos] * 0x1000000 + ((b[pos + 1] << 16) | (b[pos + 2] << 8) | b[pos + 3]);
          pos += 4;
          break;
        case 0xc0:
          return `nil at byte ${start}: the protocol has no nil values`;
        case 0xca:
        case 0xcb:
          return `float at byte ${start}: every number in the protocol is an integer`;
        case 0xc1:
          return `invalid msgpack byte 0xc1 at byte ${start}`;
        default:
          // 0xc7-0xc9, 0xd4-0xd8
          return `extension type at byte ${start}: the protocol has no extension types`;
      }
      if (h === 0xda || h === 0xdb) {
        kind = 'str';
        limit = limits.maxStrLength;
      } else if (h === 0xc5 || h === 0xc6) {
        kind = 'bin';
        limit = limits.maxBinLength;
      } else if (h === 0xdc || h === 0xdd) {
        kind = 'array';
        limit = limits.maxArrayLength;
        items = skip;
        skip = 0;
      } else if (h === 0xde || h === 0xdf) {
        kind = 'map';
        limit = limits.maxMapLength * 2;
        items = skip * 2;
        skip = 0;
      }
    }
    if (kind === 'str' || kind === 'bin') {
      if (skip > limit) {
        return `${kind} of ${skip} bytes at byte ${start} exceeds the limit of ${limit}`;
      }
      pos += skip;
    } else if (kind !== '' && items > limit) {
      const n = kind === 'map' ? items / 2 : items;
      const max = kind === 'map' ? limit / 2 : limit;
      return `${kind} of ${n} items at byte ${start} exceeds the limit of ${max}`;
    }
    if (pos > end) return truncated(start, end);

    // This token fills one slot of the innermost open container (or is the top-level value).
    pending -= 1;
    if (open.length > 0) open[open.length - 1] -= 1;
    if (items > 0) {
      if (open.length >= limits.maxDepth) {
        return `nesting deeper than ${limits.maxDepth} at byte ${start}`;
      }
      open.push(items);
      pending += items;
      if (pending > end - pos) {
        return `${kind} at byte ${start} announces ${kind === 'map' ? items / 2 : items} items but only ${end - pos} bytes remain`;
      }
    }
    while (open.length > 0 && open[open.length - 1] === 0) open.pop();
  }
  if (pos !== end) return `${end - pos} trailing byte(s) after the value, at byte ${pos}`;
  return undefined;
}

function truncated(start: number, end: number): string {
  return `truncated: token at byte ${start} runs past the end of the body (${end} bytes)`;
}
