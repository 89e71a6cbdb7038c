/** The files offered to an app (long-polled like the task reads), and one file for its sender or a recipient. */
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { isWaitSatisfied } from '@beamline/domain';
import { subjects, type ExpiringRef } from '@beamline/nats';
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

@QueryHandler(ListFilesQuery)
export class ListFilesHandler implements IQueryHandler<ListFilesQuery> {
  constructor(
    private readonly store: StoreClient,
    private readonly wakeups: Wakeups,
  ) {}

  async execute({ read }: ListFilesQuery): Promise<Listing<ExpiringRef>> {
    const { value, satisfied } = await longPoll(this.wakeups, {
      wakeOn: [subjects.notifyApp(read.asApp)],
      fetch: async (wokenFor) =>
        (await this.store.query({ q: 'files', asApp: read.asApp, minSeq: minSeqFor(this.wakeups, wokenFor, read) })).items as ExpiringRef[],
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
