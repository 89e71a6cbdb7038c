/** The socket requests waiting for an app, long-polled like the task reads. */
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { isWaitSatisfied } from '@beamline/domain';
import { subjects, type ExpiringRef } from '@beamline/nats';
import { longPoll } from '../tasks/long-poll';
import { minSeqFor, type Listing, type ReadContext } from '../tasks/read-context';
import { StoreClient } from '../tasks/store-client';
import { Wakeups } from '../tasks/wakeups';

export class ListSocketsQuery extends Query<Listing<ExpiringRef>> {
  constructor(readonly read: ReadContext) {
    super();
  }
}

@QueryHandler(ListSocketsQuery)
export class ListSocketsHandler implements IQueryHandler<ListSocketsQuery> {
  constructor(
    private readonly store: StoreClient,
    private readonly wakeups: Wakeups,
  ) {}

  async execute({ read }: ListSocketsQuery): Promise<Listing<ExpiringRef>> {
    const { value, satisfied } = await longPoll(this.wakeups, {
      wakeOn: [subjects.notifyApp(read.asApp)],
      fetch: async (wokenFor) =>
        (await this.store.query({ q: 'sockets', asApp: read.asApp, minSeq: minSeqFor(this.wakeups, wokenFor, read) })).items as ExpiringRef[],
      satisfied: (items) => isWaitSatisfied(items.length, read.wait),
      waitMs: read.wait.waitMs,
      signal: read.signal,
    });
    return { items: value, complete: satisfied };
  }
}
