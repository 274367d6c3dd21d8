import { checkExpressionSyntax, evaluateExpression, ExpressionError } from './expression';

const scope = {
  inputs: { topic: 'cats', limit: 10 },
  nodes: { draft: { text: 'A long enough draft', usage: { outputTokens: 7 } }, scores: { values: [3, 9, 4] } },
};

describe('evaluateExpression', () => {
  test("the DESIGN.md condition compares the draft's length", async () => {
    await expect(evaluateExpression('$length(nodes.draft.text) > 10', scope)).resolves.toBe(true);
    await expect(evaluateExpression('$length(nodes.draft.text) > 100', scope)).resolves.toBe(false);
  });

  test('reads inputs and node outputs and builds new values', async () => {
    await expect(evaluateExpression('$sum(nodes.scores.values) + inputs.limit', scope)).resolves.toBe(26);
    await expect(evaluateExpression('{"topic": $uppercase(inputs.topic), "top": $max(nodes.scores.values)}', scope)).resolves.toEqual({
      topic: 'CATS',
      top: 9,
    });
  });

  test('a path to nothing evaluates to undefined', async () => {
    await expect(evaluateExpression('nodes.ghost.text', scope)).resolves.toBeUndefined();
  });

  test('prototype members are out of reach', async () => {
    await expect(evaluateExpression('nodes.constructor', scope)).resolves.toBeUndefined();
    await expect(evaluateExpression('inputs.__proto__', scope)).resolves.toBeUndefined();
  });

  test('runaway recursion is stopped, even in tail position where the stack never grows', async () => {
    await expect(evaluateExpression('($f := function($n){ $f($n + 1) }; $f(0))', scope)).rejects.toThrow(/evaluation steps/);
    await expect(evaluateExpression('($f := function($n){ 1 + $f($n + 1) }; $f(0))', scope)).rejects.toMatchObject({ code: 'D1011' });
    await expect(evaluateExpression('($f := function($n){ $n > 0 ? $f($n-1) + $f($n-1) : 1 }; $f(40))', scope)).rejects.toBeInstanceOf(
      ExpressionError,
    );
  });

  test('the clock is only what the caller gives', async () => {
    await expect(evaluateExpression('$now()', scope)).rejects.toThrow(/no run clock/);
    await expect(evaluateExpression('$millis()', scope, { nowMs: 86_400_000 })).resolves.toBe(86_400_000);
    await expect(evaluateExpression('$now()', scope, { nowMs: 86_400_000 })).resolves.toBe('1970-01-02T00:00:00.000Z');
    await expect(evaluateExpression("$now('[Y0001]-[M01]')", scope, { nowMs: 86_400_000 })).resolves.toBe('1970-01');
  });

  test('errors are ExpressionErrors with JSONata codes', async () => {
    await expect(evaluateExpression('1 +', scope)).rejects.toMatchObject({ name: 'ExpressionError', code: 'S0207' });
    await expect(evaluateExpression('"a" + 1', scope)).rejects.toMatchObject({ code: 'T2001' });
  });
});

describe('checkExpressionSyntax', () => {
  test('a valid expression has no syntax error', () => {
    expect(checkExpressionSyntax('$length(nodes.draft.text) > 10')).toBeNull();
  });

  test('a broken expression is reported with its position', () => {
    expect(checkExpressionSyntax('1 +')).toMatch(/position/);
    expect(checkExpressionSyntax('$length(')).toEqual(expect.any(String));
  });
});
