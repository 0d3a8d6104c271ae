// Writes a proxy's stream lines to its socket. A line may come as parts (a push is its header and
// the encoded resources, strings shared by every proxy that gets them), so a push is never copied
// into one string per proxy: 1,000 first pushes of 124 KiB had grown V8's heap by 130 MiB. A long
// line goes out in 16 KiB pieces, each once the one before is flushed, because Node's TLS socket
// keeps the buffers one write grew to: a 124 KiB line written whole left each bare node:tls
// connection 306 KiB of RSS, against 112 KiB in pieces (bench/push/tls-floor.ts, 2,000
// connections). Lines keep their order.

import type { Duplex } from 'node:stream';

/** A TLS record's most plaintext: a piece fills one record. */
const PIECE_CHARS = 16 * 1024;

export class LineWriter {
  readonly #socket: Duplex;
  /** Parts waiting, from #head on; the part at #head is written from #offset. */
  #queue: string[] = [];
  #head = 0;
  #offset = 0;
  #queuedChars = 0;
  #isWriting = false;

  constructor(socket: Duplex) {
    this.#socket = socket;
  }

  /** Characters given and not yet flushed to the socket, this writer's and the socket's. */
  get unsentChars(): number {
    return this.#queuedChars + this.#socket.writableLength;
  }

  /** Writes a line: `parts` joined, ending in a newline. */
  write(parts: string | readonly string[]): void {
    const list = typeof parts === 'string' ? [parts] : parts;
    let chars = 0;
    for (const p of list) chars += p.length;
    if (!this.#isWriting && chars <= PIECE_CHARS) {
      this.#socket.write(list.length === 1 ? (list[0] as string) : list.join(''));
      return;
    }
    for (const p of list) this.#queue.push(p);
    this.#queuedChars += chars;
    if (!this.#isWriting) this.#next();
  }

  #next(): void {
    const piece = this.#takePiece();
    if (piece === '' || this.#socket.destroyed) {
      this.#isWriting = false;
      this.#queue = [];
      this.#head = 0;
      this.#queuedChars = 0;
      return;
    }
    this.#isWriting = true;
    this.#socket.write(piece, (err) => {
      if (err === undefined || err === null) this.#next();
      else this.#isWriting = false;
    });
  }

  /** Up to PIECE_CHARS of what waits, never ending between the halves of a surrogate pair. */
  #takePiece(): string {
    let piece = '';
    while (this.#head < this.#queue.length) {
      const part = this.#queue[this.#head] as string;
      const room = PIECE_CHARS - piece.length;
      if (part.length - this.#offset <= room) {
        piece += this.#offset === 0 ? part : part.slice(this.#offset);
        this.#head++;
        this.#offset = 0;
        continue;
      }
      let end = this.#offset + room;
      const last = part.charCodeAt(end - 1);
      if (last >= 0xd800 && last <= 0xdbff) end--;
      piece += part.slice(this.#offset, end);
      this.#offset = end;
      break;
    }
    this.#queuedChars -= piece.length;
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    }
    return piece;
  }
}
