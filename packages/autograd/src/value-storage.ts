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

/** Numbers per slot (value.ts says which is which; the first is the value's data). */
const LANES = 3;
/** Slots per block: one live Value keeps at most 6 KB of blocks alive. */
const BLOCK_SLOTS = 256;
/**
 * Slot 0 of each block is its header: the latest epoch of the recent list the block has values
 * of, the offset where that epoch's values start in it (the values below are from earlier
 * epochs), and the block's serial number (blocks are numbered in the order they are made).
 */
const HEADER_EPOCH = 0;
const HEADER_EPOCH_START = 1;
const HEADER_SERIAL = 2;

let block = new Float64Array(LANES * BLOCK_SLOTS);
let nextOffset = LANES;
let blocksMade = 0;

/** Stores `data` in the first number of a fresh slot and returns the slot's offset in `currentBlock()`. */
export function allocateSlot(data: number): number {
  let offset = nextOffset;
  if (offset === block.length) {
    block = new Float64Array(LANES * BLOCK_SLOTS);
    block[HEADER_EPOCH] = recentEpoch;
    block[HEADER_EPOCH_START] = LANES;
    block[HEADER_SERIAL] = ++blocksMade;
    offset = LANES;
  }
  nextOffset = offset + LANES;
  block[offset] = data;
  return offset;
}

/**
 * Where the slot at `offset` of `b` stands in creation order: a Value made after another has a
 * larger position. `creationCursor()` is the position the next Value will take.
 */
export function positionOf(b: Float64Array, offset: number): number {
  return b[HEADER_SERIAL]! * b.length + offset;
}

/** The position the next Value will take: every Value made so far is before it. */
export function creationCursor(): number {
  return positionOf(block, nextOffset);
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

/** Whether ops were recorded since the recent list was last emptied. */
export function hasRecentOps(): boolean {
  return recentLength > 0;
}

/** The recent list and how many entries of it are in use. */
export function recentOps(): { list: readonly Value[]; length: number } {
  return { list: recent, length: recentLength };
}

/** Whether the op value in slot `offset` of `b` is on the recent list, i.e. was made in the current epoch. */
export function isRecent(b: Float64Array, offset: number): boolean {
  return b[HEADER_EPOCH] === recentEpoch && offset >= b[HEADER_EPOCH_START]!;
}
