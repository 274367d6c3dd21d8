import { inlineTemplate, renderInline } from './inline-template';
import { renderTemplate, type TemplateScope } from './template';

const scope: TemplateScope = {
  inputs: { topic: 'otters', n: 0, yes: false, none: null, list: [1, 'two', { three: 3 }], nested: { deep: { word: 'héllo ✓' } } },
  nodes: { draft: { text: 'Tell me about otters', usage: { totalTokens: 12 } }, empty: {}, words: ['a', 'b'] },
};

describe('inline templates', () => {
  it.each([
    ['Write about {{inputs.topic}}', 'Write about otters'],
    ['{{nodes.draft.text}}', 'Tell me about otters'],
    ['{{ nodes.draft.usage.totalTokens }} tokens', '12 tokens'],
    ['{{inputs.n}}/{{inputs.yes}}/{{inputs.none}}/{{inputs.missing}}/{{inputs.missing.deeper}}', '0/false///'],
    ['{{inputs.list}}', '[1,"two",{"three":3}]'],
    ['{{nodes.empty}} {{nodes.words}}', '{} ["a","b"]'],
    ['{{inputs.nested.deep.word}}', 'héllo ✓'],
    ['no lookups at all, { braces } and a \\ backslash', 'no lookups at all, { braces } and a \\ backslash'],
    ['', ''],
    ['{{inputs.n}}', '0'],
    ['{{nodes.draft.usage.totalTokens}}{{nodes.draft.usage.totalTokens}}', '24'],
    ['{{inputs.yes}}{{inputs.yes}} x', '0 x'],
  ])('renders %j as Handlebars does', (source, expected) => {
    const inline = inlineTemplate(source);
    expect(inline).not.toBeNull();
    expect(renderInline(inline!, scope)).toBe(expected);
    expect(renderTemplate(source, scope)).toBe(expected);
  });

  it.each([
    '{{#if inputs.topic}}x{{/if}}',
    '{{{inputs.topic}}}',
    '{{inputs.topic}}}',
    '\\{{inputs.topic}}',
    '{{~inputs.topic}}',
    '{{json inputs.list}}',
    '{{topic}}',
    '{{inputs.list.[0]}}',
    '{{inputs.list.length}}',
    '{{inputs.topic.toString}}',
    '{{inputs.constructor}}',
    '{{nodes.my-node.text}}',
    '{{! a comment }}',
    '{{inputs.topic',
  ])('leaves %j to Handlebars', (source) => {
    expect(inlineTemplate(source)).toBeNull();
  });

  it('declines a lookup into a string or a number, and an object with a toString key, where Handlebars has rules of its own', () => {
    expect(renderInline(inlineTemplate('{{inputs.o}}')!, { inputs: { o: { toString: 1 } }, nodes: {} })).toBeUndefined();
    expect(renderInline(inlineTemplate('{{inputs.topic.first}}')!, scope)).toBeUndefined();
    expect(renderInline(inlineTemplate('{{inputs.n.x}}')!, scope)).toBeUndefined();
  });

  it('agrees with Handlebars on 5,000 generated templates and scopes', () => {
    const random = seeded(20261202);
    let compared = 0;
    for (let i = 0; i < 5000; i++) {
      const data: TemplateScope = { inputs: randomObject(random, 3), nodes: { a: randomObject(random, 3), b: randomValue(random, 3) } };
      const source = randomTemplate(random);
      const inline = inlineTemplate(source);
      if (!inline) continue;
      const rendered = renderInline(inline, data);
      if (rendered === undefined) continue;
      expect({ source, data, rendered }).toEqual({ source, data, rendered: renderTemplate(source, data) });
      compared += 1;
    }
    // Most generated templates are of the inline kind, so the comparison is not vacuous.
    expect(compared).toBeGreaterThan(1500);
  });
});

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const NAMES = ['a', 'b', 'text', 'x_1', 'constructor', 'valueOf', 'length', 'toString'];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function randomValue(random: () => number, depth: number): unknown {
  const r = random();
  if (depth <= 0 || r < 0.5) return pick(random, ['', 'plain', 'ünï {{x}} \\ "q"', 0, -0, 3.25, -7, 1e21, true, false, null]);
  if (r < 0.7) return Array.from({ length: Math.floor(random() * 3) }, () => randomValue(random, depth - 1));
  return randomObject(random, depth - 1);
}

function randomObject(random: () => number, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const count = Math.floor(random() * 4);
  for (let i = 0; i < count; i++) out[pick(random, NAMES)] = randomValue(random, depth);
  return out;
}

function randomTemplate(random: () => number): string {
  let out = '';
  const parts = 1 + Math.floor(random() * 4);
  for (let i = 0; i < parts; i++) {
    if (random() < 0.4) {
      out += pick(random, ['hello ', ' ', '{', '}', '} ', '\n', 'a\\b', 'x{y}z', '\u00e9']);
    } else {
      const root = pick(random, ['inputs', 'nodes', 'nodes.a', 'nodes.b']);
      const tail = Array.from({ length: Math.floor(random() * 3) }, () => `.${pick(random, NAMES)}`).join('');
      const pad = pick(random, ['', ' ', '\n']);
      out += `{{${pad}${root}${tail}${pad}}}`;
    }
  }
  return out;
}
