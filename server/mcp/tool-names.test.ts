import { slugOf, toolNamesOf } from './tool-names';
import { inputSchemaOf } from './workflow-tools';

const MCP_TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

describe('slugOf', () => {
  test('lower-cases, folds accents and joins words with _', () => {
    expect(slugOf('Write a Haiku!')).toBe('write_a_haiku');
    expect(slugOf('  Café — Résumé v2 ')).toBe('cafe_resume_v2');
  });

  test('a name with nothing usable becomes "workflow"; a long one is cut without a trailing _', () => {
    expect(slugOf('!!! ???')).toBe('workflow');
    expect(slugOf('日本語')).toBe('workflow');
    const long = slugOf(`${'a'.repeat(47)} tail`);
    expect(long).toBe('a'.repeat(47));
    expect(long).toMatch(MCP_TOOL_NAME);
  });
});

describe('toolNamesOf', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
  const first = { id: '11111111-aaaa-4aaa-8aaa-aaaaaaaaaaaa', name: 'Daily report', createdAt: at(1) };
  const second = { id: '22222222-bbbb-4bbb-8bbb-bbbbbbbbbbbb', name: 'daily  REPORT', createdAt: at(2) };

  test('the oldest keeps the bare slug, a later namesake gets its id prefix, whatever the order given', () => {
    const expected = new Map([
      ['daily_report', first.id],
      ['daily_report_22222222', second.id],
    ]);
    expect(toolNamesOf([first, second])).toEqual(expected);
    expect(toolNamesOf([second, first])).toEqual(expected);
  });

  test('adding a namesake renames nobody; a suffixed name already taken falls back to the whole id', () => {
    const squatter = { id: '33333333-cccc-4ccc-8ccc-cccccccccccc', name: 'daily report 22222222', createdAt: at(0) };
    const names = toolNamesOf([first, second, squatter]);
    expect(names.get('daily_report')).toBe(first.id);
    expect(names.get('daily_report_22222222')).toBe(squatter.id);
    expect(names.get('daily_report_22222222bbbb4bbb8bbbbbbbbbbbbbbb')).toBe(second.id);
    for (const name of names.keys()) expect(name).toMatch(MCP_TOOL_NAME);
  });
});

describe('inputSchemaOf', () => {
  test('trigger inputs become a closed JSON Schema object; a required input with a default is not required', () => {
    expect(
      inputSchemaOf({
        topic: { type: 'string', required: true, description: 'what about' },
        count: { type: 'number', required: true, default: 3 },
        options: { type: 'object' },
      }),
    ).toEqual({
      type: 'object',
      properties: { topic: { type: 'string', description: 'what about' }, count: { type: 'number', default: 3 }, options: { type: 'object' } },
      required: ['topic'],
      additionalProperties: false,
    });
  });
});
