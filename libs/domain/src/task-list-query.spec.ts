import { Forbidden, InvalidInput } from './errors';
import { parseTaskListQuery } from './task-list-query';

const me = 'app2.proxy2.broker';

describe('parseTaskListQuery', () => {
  it('rejects a listing without from, to or filter with 400', () => {
    expect(() => parseTaskListQuery({}, me)).toThrow(InvalidInput);
  });

  it('turns filter=todo into a todo query for the caller', () => {
    expect(parseTaskListQuery({ filter: 'todo' }, me)).toEqual({ todoFor: me });
  });

  it('answers 403 when from or to names another app', () => {
    expect(() => parseTaskListQuery({ from: 'app1.proxy1.broker' }, me)).toThrow(Forbidden);
    expect(() => parseTaskListQuery({ to: 'app1.proxy1.broker' }, me)).toThrow(Forbidden);
  });

  it('accepts from and to naming the caller', () => {
    expect(parseTaskListQuery({ from: me, to: me }, me)).toEqual({ from: me, to: me });
  });

  it('rejects unknown filters and malformed ids with 400', () => {
    expect(() => parseTaskListQuery({ filter: 'done' }, me)).toThrow(InvalidInput);
    expect(() => parseTaskListQuery({ to: 'not..an.id' }, me)).toThrow(InvalidInput);
  });
});
