import { checkTemplateSyntax, renderTemplate } from './template';

const scope = {
  inputs: { topic: 'cats & <dogs>', count: 3 },
  nodes: {
    draft: { text: 'Hello <b>world</b> & "friends"', usage: { inputTokens: 5, outputTokens: 7 } },
    list: { items: ['a', 'b'] },
  },
};

describe('renderTemplate', () => {
  test('renders plain text: markup and ampersands are not HTML-escaped', () => {
    expect(renderTemplate('<b>& {{inputs.topic}}', scope)).toBe('<b>& cats & <dogs>');
    expect(renderTemplate('{{nodes.draft.text}}', scope)).toBe('Hello <b>world</b> & "friends"');
  });

  test('follows nested paths into node outputs', () => {
    expect(renderTemplate('{{nodes.draft.usage.outputTokens}} tokens for {{inputs.count}} items', scope)).toBe('7 tokens for 3 items');
  });

  test('missing values render as nothing', () => {
    expect(renderTemplate('[{{inputs.nothing}}][{{nodes.ghost.text}}][{{nodes.draft.usage.missing.deeper}}]', scope)).toBe('[][][]');
  });

  test('an object placed directly renders as its JSON, not [object Object]', () => {
    expect(renderTemplate('{{nodes.draft.usage}}', scope)).toBe('{"inputTokens":5,"outputTokens":7}');
    expect(renderTemplate('{{nodes.list.items}}', scope)).toBe('["a","b"]');
  });

  test('the json helper renders any value as JSON, indented on request', () => {
    expect(renderTemplate('{{json nodes.list}}', scope)).toBe('{"items":["a","b"]}');
    expect(renderTemplate('{{json inputs.topic}}', scope)).toBe('"cats & <dogs>"');
    expect(renderTemplate('{{json nodes.list indent=2}}', scope)).toBe('{\n  "items": [\n    "a",\n    "b"\n  ]\n}');
    expect(renderTemplate('{{json nodes.ghost}}', scope)).toBe('');
  });

  test('block helpers see the data as it is: #each over an object lists only its keys', () => {
    expect(renderTemplate('{{#each nodes.draft.usage}}{{@key}}={{this}};{{/each}}', scope)).toBe('inputTokens=5;outputTokens=7;');
    expect(renderTemplate('{{#each nodes.list.items}}{{@index}}:{{this}} {{/each}}', scope)).toBe('0:a 1:b ');
    expect(renderTemplate('{{#if inputs.count}}yes{{else}}no{{/if}}', scope)).toBe('yes');
  });

  test('templates cannot reach prototypes or the console', () => {
    expect(renderTemplate('{{inputs.constructor}}{{inputs.__proto__}}{{nodes.constructor.name}}', scope)).toBe('');
    expect(() => renderTemplate('{{log "hello"}}', scope)).toThrow(/Missing helper: "log"/);
  });

  test('the same template renders the same way from the cache, with new data', () => {
    expect(renderTemplate('Hi {{inputs.topic}}', scope)).toBe('Hi cats & <dogs>');
    expect(renderTemplate('Hi {{inputs.topic}}', { inputs: { topic: 'owls' }, nodes: {} })).toBe('Hi owls');
  });

  test('rendering many distinct templates keeps working past the cache bound', () => {
    for (let i = 0; i < 700; i += 1) expect(renderTemplate(`${i}:{{inputs.count}}`, scope)).toBe(`${i}:3`);
  });

  test('a template with a syntax error throws when rendered', () => {
    expect(() => renderTemplate('{{#if inputs.count}}open', scope)).toThrow();
  });
});

describe('checkTemplateSyntax', () => {
  test('valid templates have no syntax error', () => {
    expect(checkTemplateSyntax('Write about {{inputs.topic}} {{#each nodes}}{{this}}{{/each}}')).toBeNull();
    expect(checkTemplateSyntax('plain text')).toBeNull();
  });

  test('unclosed blocks and mustaches are reported with a message', () => {
    expect(checkTemplateSyntax('{{#if inputs.x}}never closed')).toMatch(/Parse error/);
    expect(checkTemplateSyntax('{{inputs.topic')).toEqual(expect.any(String));
    expect(checkTemplateSyntax('{{/each}}')).toEqual(expect.any(String));
  });
});
