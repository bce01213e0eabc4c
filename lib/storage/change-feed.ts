/**
 * How an instance learns of task changes other instances write to a shared backend,
 * as TaskBackend declares it (`capabilities.changeFeed`):
 * - `'notify'`: the backend pushes the ids of changed tasks as they commit
 *   (`listenForChanges`); after a break in the notices it says since when it may have
 *   missed some;
 * - `'poll'`: every write transaction stamps its rows with the next number of a change
 *   sequence (consecutive numbers); a reader keeps a cursor and asks for what came after
 *   it (`changeCursor`, `changesAfter`). A number may show up after a higher one (its
 *   transaction committed later): the reader watches such gaps for a while (`changesAt`).
 * Either way only ids and versions travel first: the reader drops what it holds already
 * and reads the rest in batches (`getTasks`). `changedSince` lists what is unfinished or
 * ended since a moment, for a reader that starts following (or lost notices).
 */
export type ChangeFeedKind = 'notify' | 'poll';

/** A position in the change sequence: after every row of `seq` (id null), or after `(seq, id)`. */
export interface ChangeCursor {
  seq: number;
  id: string | null;
}

export interface TaskChange {
  id: string;
  version: number;
  /** `'poll'`: the change sequence number that row carries. */
  seq?: number;
  /** The row's owner, when known: a reader skips its own changes by it. */
  owner?: string | null;
}

export interface ChangePage {
  changes: TaskChange[];
  /** Where the next page starts (the same cursor when nothing came). */
  cursor: ChangeCursor;
  /** Numbers the cursor moved over without listing their rows (the reader's own writes), below those of `changes`. */
  passed?: number[];
}

/** Ids another writer changed, or: notices may have been lost since `missedSince` (epoch ms, this process's clock). */
export type ChangeNotice = { ids: string[] } | { missedSince: number };

export type ChangeListener = (notice: ChangeNotice) => void;

/** Stops listening. */
export type StopListening = () => Promise<void>;
