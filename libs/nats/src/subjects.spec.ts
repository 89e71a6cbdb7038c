import { subjectMatches, subjects } from './subjects';

const ID = '70c0aac0-dc0b-4d3f-8a3e-1c3d6e1c2f6a';

describe('audit copy subjects', () => {
  it.each([
    [subjects.taskCreated(ID), 'audit.task.created'],
    [subjects.taskResult(ID, 'app2.proxy2.broker'), 'audit.task.result'],
    [subjects.taskExpired(ID), 'audit.task.expired'],
    [subjects.socketCreated(ID), 'audit.socket.created'],
    [subjects.socketConnected(ID), 'audit.socket.connected'],
    ['beam.ev.something', 'audit.other'],
  ])('files a copy of %s under %s, naming no id', (original, copy) => {
    expect(subjects.auditCopy(original)).toBe(copy);
    expect(subjectMatches(subjects.allAudit, copy)).toBe(true);
  });
});

describe('subjectMatches', () => {
  it.each([
    ['beam.ev.task.*.created', subjects.taskCreated(ID), true],
    ['beam.ev.task.*.created', subjects.taskExpired(ID), false],
    [subjects.taskAggregate(ID), subjects.taskResult(ID, 'app2.proxy2.broker'), true],
    [subjects.taskAggregate(ID), subjects.taskCreated('11111111-1111-4111-8111-111111111111'), false],
    ['beam.ev.>', 'beam.ev', false],
    ['beam.ev', 'beam.ev', true],
    ['beam.ev', 'beam.ev.task', false],
  ])('%s against %s: %s', (pattern, subject, expected) => {
    expect(subjectMatches(pattern, subject)).toBe(expected);
  });
});
