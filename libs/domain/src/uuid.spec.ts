import { InvalidInput } from './errors';
import { parseUuid } from './uuid';

describe('parseUuid', () => {
  it('accepts any version and lowercases', () => {
    expect(parseUuid('70C0AAC0-DC0B-4D3F-8A3E-1C3D6E1C2F6A', 'id')).toBe('70c0aac0-dc0b-4d3f-8a3e-1c3d6e1c2f6a');
    expect(parseUuid('00000000-0000-0000-0000-000000000000', 'id')).toBe('00000000-0000-0000-0000-000000000000');
    expect(parseUuid('018f3f5e-1c2b-7abc-9def-0123456789ab', 'id')).toBe('018f3f5e-1c2b-7abc-9def-0123456789ab');
  });

  it.each([
    '',
    'not-a-uuid',
    '70c0aac0dc0b4d3f8a3e1c3d6e1c2f6a',
    '{70c0aac0-dc0b-4d3f-8a3e-1c3d6e1c2f6a}',
    '70c0aac0-dc0b-4d3f-8a3e-1c3d6e1c2f6g',
    ' 70c0aac0-dc0b-4d3f-8a3e-1c3d6e1c2f6a',
    null,
    1,
    {},
    [],
  ])('rejects %j naming the field', (v) => {
    expect(() => parseUuid(v, 'task')).toThrow(InvalidInput);
    expect(() => parseUuid(v, 'task')).toThrow(/^task: /);
  });
});
