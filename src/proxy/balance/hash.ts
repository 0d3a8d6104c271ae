// Fast non-cryptographic string hashes for the balancers: MurmurHash3 (x86, 32-bit) over UTF-16
// code units, and a 53-bit value from two seeded runs for ring positions. Called once per pick
// under a hash policy, and once per ring entry or Maglev host when a table is built.

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
/** Seeds of the two runs behind hash53 (arbitrary odd constants). */
const SEED_HIGH = 0x9747b28c;
const SEED_LOW = 0x2545f491;

/** MurmurHash3 x86_32 of the string's UTF-16 code units (two units per 32-bit block), unsigned. */
export function hash32(text: string, seed = 0): number {
  let h = seed | 0;
  const n = text.length;
  const end = n & ~1;
  for (let i = 0; i < end; i += 2) {
    let k = text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, C2);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if ((n & 1) === 1) {
    let k = Math.imul(text.charCodeAt(n - 1), C1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, C2);
  }
  return finish(h, n);
}

/**
 * A 53-bit hash (an exact integer in a double, so `<` orders it): 21 bits of one MurmurHash3 run
 * and 32 of another with a different seed, both fed in a single pass over the string.
 */
export function hash53(text: string): number {
  let high = SEED_HIGH;
  let low = SEED_LOW;
  const n = text.length;
  const end = n & ~1;
  for (let i = 0; i < end; i += 2) {
    let k = text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16);
    k = Math.imul(k, C1);
    k = Math.imul((k << 15) | (k >>> 17), C2);
    high ^= k;
    high = (Math.imul((high << 13) | (high >>> 19), 5) + 0xe6546b64) | 0;
    low ^= k;
    low = (Math.imul((low << 13) | (low >>> 19), 5) + 0xe6546b64) | 0;
  }
  if ((n & 1) === 1) {
    let k = Math.imul(text.charCodeAt(n - 1), C1);
    k = Math.imul((k << 15) | (k >>> 17), C2);
    high ^= k;
    low ^= k;
  }
  return (finish(high, n) >>> 11) * 0x1_0000_0000 + finish(low, n);
}

/** MurmurHash3's length mix and fmix32; unsigned. */
function finish(state: number, length: number): number {
  let h = state ^ (length * 2);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 16 hex digits from the same two runs, for values such as a generated cookie. */
export function hashHex(text: string): string {
  const high = hash32(text, SEED_HIGH).toString(16).padStart(8, '0');
  return high + hash32(text, SEED_LOW).toString(16).padStart(8, '0');
}
