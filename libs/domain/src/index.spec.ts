import * as domain from './index';

describe('@beamline/domain barrel', () => {
  it('re-exports every public function and constant', () => {
    for (const name of [
      'DomainError', 'InvalidInput', 'Unauthenticated', 'Forbidden', 'NotFound', 'Conflict', 'PayloadTooLarge',
      'RecipientsWithoutCertificate', 'StorageFull', 'BrokerUnavailable', 'BrokerTimeout',
      'parseByteSize', 'formatBytes', 'storageReasons', 'assertRoomFor', 'describeUsage', 'CLIENT_WRITES_STOP_AT',
      'isValidBeamId', 'parseBeamId', 'canSignFor', 'kindOf', 'proxyIdOf', 'appIdOf', 'brokerIdOfProxy', 'subjectToken', 'fromSubjectToken',
      'parseUuid', 'parseDuration', 'formatRemainingTtl',
      'WORK_STATUSES', 'DEFAULT_MAX_TTL_MS', 'parseTaskInput', 'parseResultInput', 'parseSealedTask', 'parseSealedResult', 'ttlMsOf',
      'parseEvent', 'emptyProjection', 'applyEvent', 'liveTask', 'tasksMatching', 'resultsFor', 'isExpired', 'expiredTasks',
      'isTodoFor', 'DEFAULT_MAX_WAIT_MS', 'parseWaitParams', 'countTowardsWait', 'isWaitSatisfied',
    ]) {
      expect((domain as Record<string, unknown>)[name]).toBeDefined();
    }
  });
});
