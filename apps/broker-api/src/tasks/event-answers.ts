/**
 * Answers a read with the messages the store pointed at, streamed from the log as event lines (see
 * libs/http event-lines.ts): listings of any length and size leave broker-api's memory flat.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { NotFound } from '@beamline/domain';
import { eventLineText, isSpliceable, writeEventLines } from '@beamline/http';
import { EventReader, type MessageRef } from '@beamline/nats';

@Injectable()
export class EventAnswers {
  private readonly logger = new Logger('EventAnswers');

  constructor(@Inject(EventReader) private readonly reader: EventReader) {}

  /** `status` with one line per referenced message, in the order given. */
  list(res: Response, status: number, refs: readonly MessageRef[]): Promise<void> {
    return writeEventLines(res, status, this.reader.many(refs), (seq) => this.warnUnspliceable(seq));
  }

  /** 200 with the referenced message as one JSON object; 404 (`notFound`) when it is gone meanwhile. */
  async one(res: Response, ref: MessageRef, notFound: string): Promise<void> {
    const stored = await this.reader.one(ref.seq);
    // Gone between the store's answer and the read: it expired and was purged just now.
    if (!stored) throw new NotFound(notFound);
    if (!isSpliceable(stored.data)) {
      this.warnUnspliceable(stored.seq);
      throw new NotFound(notFound);
    }
    res.status(200).type('json').send(eventLineText(stored));
  }

  private warnUnspliceable(seq: number): void {
    this.logger.warn(`skipping event #${seq}: not a single-line JSON object (written by something other than a broker?)`);
  }
}
