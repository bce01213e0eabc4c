import { randomFillSync } from 'node:crypto';

const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** Ids made per refill: one random fill and one string for all of them. */
const BATCH = 64;
const random = Buffer.alloc(16 * BATCH);
const text = Buffer.alloc(36 * BATCH);
let batch = '';
let next = BATCH;

function refill(): void {
  randomFillSync(random);
  for (let k = 0; k < BATCH; k++) {
    const r = k * 16;
    random[r + 6] = (random[r + 6] & 0x0f) | 0x40; // version 4
    random[r + 8] = (random[r + 8] & 0x3f) | 0x80; // variant 10xx
    let j = k * 36;
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) text[j++] = 0x2d; // '-'
      const byte = random[r + i];
      text[j++] = HEX[byte >> 4];
      text[j++] = HEX[byte & 15];
    }
  }
  batch = text.toString('latin1', 0, 36 * BATCH);
  next = 0;
}

/**
 * A random UUID v4 (from the crypto RNG, as crypto.randomUUID). Not randomUUID itself: on
 * Node 20 it returns a string concatenated from 20 pieces, which the first Map lookup by
 * the id must flatten (a copy and ~a dozen objects for the collector), ~2 µs per task in
 * the engine's burst; a slice of one string per 64 ids is hashed where it lies.
 */
export function newTaskId(): string {
  if (next === BATCH) refill();
  const at = next++ * 36;
  return batch.slice(at, at + 36);
}
