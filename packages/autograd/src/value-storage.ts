import type { Value } from './value.js';

// Where Values keep their numbers, and the list of ops recorded since the last backward. Only
// speed lives here: value.ts reads as micrograd on top of it.

// ---------------------------------------------------------------------------------------------
// Storage. A step of a small scalar MLP makes ~70k Values and the whole graph is alive while the
// young generation is scavenged, so every byte per node is copied, often twice. A number in an
// object field costs a separate 16-byte heap box (doubles are never stored inline), so data and
// grad do not live on the Value: each Value owns one slot of a block, a Float64Array of
// BLOCK_SLOTS slots that the scavenger never copies. Blocks are filled in creation order and a
// slot is never reused; a block lives as long as any Value in it.
// NOTE: a block holds numbers only. A block that referred to Values (or to other blocks) would
// chain the graphs built before it to anything that keeps one of its Values alive.

/** Lanes of a slot: data, grad, and the exponent of a pow. */
const LANES = 3;
export const DATA = 0;
export const GRAD = 1;
export const EXPONENT = 2;
/** Slots per block: one live Value keeps at most 6 KB of blocks alive. */
const BLOCK_SLOTS = 256;
/**
 * Slot 0 of each block is its header: the latest epoch of the recent list the block has values
 * of, and the offset where that epoch's values start in it (the values below are from earlier
 * epochs).
 */
const HEADER_EPOCH = 0;
const HEADER_EPOCH_START = 1;

/**
 * A Value's `cell` packs its slot's offset in its block (shifted left by OP_BITS) with its op
 * code in the low bits: one small integer field instead of two.
 */
export const OP_BITS = 4;
export const OP_MASK = (1 << OP_BITS) - 1;

let block = new Float64Array(LANES * BLOCK_SLOTS);
let nextOffset = LANES;

/** Stores `data` in a fresh slot and returns the slot's offset in `currentBlock()`. */
export function allocateSlot(data: number): number {
  let offset = nextOffset;
  if (offset === block.length) {
    block = new Float64Array(LANES * BLOCK_SLOTS);
    block[HEADER_EPOCH] = recentEpoch;
    block[HEADER_EPOCH_START] = LANES;
    offset = LANES;
  }
  nextOffset = offset + LANES;
  block[offset + DATA] = data;
  return offset;
}

/** The block the last slot was allocated in. */
export function currentBlock(): Float64Array {
  return block;
}

// ---------------------------------------------------------------------------------------------
// Recent ops. Every op recorded since the last backward is listed here in creation order, which
// is a topological order: backward walks it once from the root down, in memory order, instead of
// searching the graph. A new epoch (the list emptied) starts after each backward and when the
// list is full; block headers tell which epoch a value was made in, so whether an op is listed
// is a read of its block.
// NOTE: the list keeps its Values alive until then: at most RECENT_CAP of them (~12 MB).

const RECENT_CAP = 1 << 17;
const recent: Value[] = [];
let recentLength = 0;
let recentEpoch = 1;
block[HEADER_EPOCH] = recentEpoch;
block[HEADER_EPOCH_START] = LANES;

/** Empties the recent list; values made from now on belong to a new epoch. */
export function newEpoch(): void {
  recent.fill(null as unknown as Value, 0, recentLength);
  recentLength = 0;
  recentEpoch++;
  block[HEADER_EPOCH] = recentEpoch;
  block[HEADER_EPOCH_START] = nextOffset;
}

/** Makes room for one more op: a full list starts a new epoch, before the op's value is made. */
export function reserveRecent(): void {
  if (recentLength === RECENT_CAP) newEpoch();
}

/** Appends op value `v` (made after `reserveRecent`) to the recent list. */
export function pushRecent(v: Value): void {
  recent[recentLength++] = v;
}

/** The recent list and how many entries of it are in use. */
export function recentOps(): { list: readonly Value[]; length: number } {
  return { list: recent, length: recentLength };
}

/** Whether op value `v` is on the recent list, i.e. was made in the current epoch. */
export function isRecent(v: Value): boolean {
  const b = v.block;
  return b[HEADER_EPOCH] === recentEpoch && v.cell >> OP_BITS >= b[HEADER_EPOCH_START]!;
}
