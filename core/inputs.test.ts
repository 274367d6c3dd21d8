import type { InputSpec } from './graph';
import { checkRunInputs } from './inputs';

const spec: Record<string, InputSpec> = {
  topic: { type: 'string', required: true },
  count: { type: 'number', default: 3 },
  draft: { type: 'boolean' },
  options: { type: 'object' },
};

describe('checkRunInputs', () => {
  test('typed values pass through and defaults fill the gaps', () => {
    expect(checkRunInputs(spec, { topic: 'cats', draft: true, options: { tone: 'dry' } })).toEqual({
      ok: true,
      inputs: { topic: 'cats', count: 3, draft: true, options: { tone: 'dry' } },
    });
  });

  test('form strings are coerced to numbers and booleans', () => {
    expect(checkRunInputs(spec, { topic: 'cats', count: '42', draft: 'false' })).toEqual({
      ok: true,
      inputs: { topic: 'cats', count: 42, draft: false },
    });
    expect(checkRunInputs(spec, { topic: 'cats', count: ' -1.5e2 ', draft: 'TRUE' })).toEqual({
      ok: true,
      inputs: { topic: 'cats', count: -150, draft: true },
    });
  });

  test('numbers and booleans given for a string input become strings', () => {
    expect(checkRunInputs(spec, { topic: 7 })).toEqual({ ok: true, inputs: { topic: '7', count: 3 } });
  });

  test('a missing required input is reported; null counts as missing', () => {
    expect(checkRunInputs(spec, {})).toEqual({ ok: false, problems: [{ field: 'topic', message: 'input "topic" is required' }] });
    expect(checkRunInputs(spec, { topic: null })).toMatchObject({ ok: false, problems: [{ field: 'topic' }] });
  });

  test('values that cannot be coerced are reported per field, all at once', () => {
    const result = checkRunInputs(spec, { topic: 'cats', count: 'many', draft: 'yes', options: ['not', 'an', 'object'] });
    expect(result).toEqual({
      ok: false,
      problems: [
        { field: 'count', message: 'input "count" must be a number' },
        { field: 'draft', message: 'input "draft" must be true or false' },
        { field: 'options', message: 'input "options" must be an object' },
      ],
    });
    expect(checkRunInputs(spec, { topic: 'x', count: '0x10' })).toMatchObject({ ok: false, problems: [{ field: 'count' }] });
    expect(checkRunInputs(spec, { topic: 'x', count: '' })).toMatchObject({ ok: false, problems: [{ field: 'count' }] });
    expect(checkRunInputs(spec, { topic: { nested: true } })).toMatchObject({ ok: false, problems: [{ field: 'topic' }] });
  });

  test('unknown inputs are refused', () => {
    expect(checkRunInputs(spec, { topic: 'cats', colour: 'red' })).toEqual({
      ok: false,
      problems: [{ field: 'colour', message: 'unknown input "colour"' }],
    });
  });

  test('inputs that are not an object are refused; no inputs at all is an empty object', () => {
    for (const given of [null, 'cats', 42, ['cats']]) {
      expect(checkRunInputs(spec, given)).toMatchObject({ ok: false, problems: [{ field: '' }] });
    }
    expect(checkRunInputs({ count: { type: 'number', default: 1 } }, undefined)).toEqual({ ok: true, inputs: { count: 1 } });
  });

  test('an input named __proto__ stays an ordinary key', () => {
    const result = checkRunInputs(JSON.parse('{"__proto__": {"type": "string"}}') as Record<string, InputSpec>, JSON.parse('{"__proto__": "x"}'));
    if (!result.ok) throw new Error('expected ok');
    expect(Object.getPrototypeOf(result.inputs)).toBe(Object.prototype);
    expect(Object.keys(result.inputs)).toEqual(['__proto__']);
  });
});
