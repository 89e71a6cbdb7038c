/**
 * The files offered to an app (long-polled like the task reads, or as Server-Sent Events), and one file for its
 * sender or a recipient.
 */
import { Inject, Injectable } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { isWaitSatisfied } from '@beamline/domain';
import type { SseWriter } from '@beamline/http';
import { EventReader, subjects, type ExpiringRef } from '@beamline/nats';
import { streamEvents } from '../tasks/event-stream';
import { longPoll } from '../tasks/long-poll';
import { minSeqFor, type Listing, type ReadContext } from '../tasks/read-context';
import { StoreClient } from '../tasks/store-client';
import { Wakeups } from '../tasks/wakeups';

export class ListFilesQuery extends Query<Listing<ExpiringRef>> {
  constructor(readonly read: ReadContext) {
    super();
  }
}

/** One file: NotFound (from the store) when it is gone, or the reader is neither its sender nor a recipient that kept it. */
export class GetFileQuery extends Query<ExpiringRef> {
  constructor(
    readonly read: ReadContext,
    readonly fileId: string,
  ) {
    super();
  }
}

/** The files offered to the reader, read after the wake-up that woke it (if any). */
async function filesOf(store: StoreClient, wakeups: Wakeups, read: ReadContext, wokenFor: number | undefined): Promise<ExpiringRef[]> {
  return (await store.query({ q: 'files', asApp: read.asApp, minSeq: minSeqFor(wakeups, wokenFor, read) })).items as ExpiringRef[];
}

@QueryHandler(ListFilesQuery)
export class ListFilesHandler implements IQueryHandler<ListFilesQuery> {
  constructor(
    private readonly store: StoreClient,
    private readonly wakeups: Wakeups,
  ) {}

  async execute({ read }: ListFilesQuery): Promise<Listing<ExpiringRef>> {
    const { value, satisfied } = await longPoll(this.wakeups, {
      wakeOn: [subjects.notifyApp(read.asApp)],
      fetch: (wokenFor) => filesOf(this.store, this.wakeups, read, wokenFor),
      satisfied: (items) => isWaitSatisfied(items.length, read.wait),
      waitMs: read.wait.waitMs,
      signal: read.signal,
    });
    return { items: value, complete: satisfied };
  }
}

@QueryHandler(GetFileQuery)
export class GetFileHandler implements IQueryHandler<GetFileQuery> {
  constructor(
    private readonly store: StoreClient,
    private readonly wakeups: Wakeups,
  ) {}

  async execute({ read, fileId }: GetFileQuery): Promise<ExpiringRef> {
    const answer = await this.store.query({ q: 'file', asApp: read.asApp, fileId, minSeq: minSeqFor(this.wakeups, undefined, read) });
    return answer.items[0] as ExpiringRef;
  }
}

/** `GET /v1/files` as Server-Sent Events (`new_file`): the offers there are, then each new one, resumable by `Last-Event-ID`. */
@Injectable()
export class FileStreams {
  constructor(
    private readonly store: StoreClient,
    private readonly wakeups: Wakeups,
    @Inject(EventReader) private readonly reader: EventReader,
  ) {}

  streamFiles(read: ReadContext, afterSeq: number, writer: () => SseWriter): Promise<void> {
    return streamEvents(this.wakeups, this.reader, writer, {
      wakeOn: [subjects.notifyApp(read.asApp)],
      fetch: async (wokenFor) => ({ items: await filesOf(this.store, this.wakeups, read, wokenFor) }),
      count: (files) => files.length,
      eventName: 'new_file',
      wait: read.wait,
      afterSeq,
      signal: read.signal,
    });
  }
}
