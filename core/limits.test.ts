import { formatBytes, jsonBytes, nestsDeeperThan, utf8Length } from './limits';

test('utf8Length counts UTF-8 bytes as Buffer.byteLength does', () => {
  for (const s of ['', 'plain', 'é', '€', '😀', 'a😀b€é', '\ud800 lone surrogate']) expect(utf8Length(s)).toBe(Buffer.byteLength(s));
});

test('jsonBytes is the UTF-8 size of the JSON text; nothing is 0', () => {
  expect(jsonBytes({ a: 'é' })).toBe(Buffer.byteLength('{"a":"é"}'));
  expect(jsonBytes(undefined)).toBe(0);
});

test('formatBytes reads as the limits are written', () => {
  expect(formatBytes(1024 * 1024)).toBe('1 MiB');
  expect(formatBytes(256 * 1024)).toBe('256 KiB');
  expect(formatBytes(10.5 * 1024 * 1024)).toBe('10.5 MiB');
  expect(formatBytes(512)).toBe('512 bytes');
});

test('nestsDeeperThan counts objects and arrays, not scalars, and needs no stack for 10,000 levels', () => {
  expect(nestsDeeperThan('text', 0)).toBe(false);
  expect(nestsDeeperThan({ a: 1 }, 1)).toBe(false);
  expect(nestsDeeperThan({ a: [1] }, 1)).toBe(true);
  expect(nestsDeeperThan({ a: [{}] }, 3)).toBe(false);
  expect(nestsDeeperThan({ a: [{ b: {} }] }, 3)).toBe(true);
  const deep = JSON.parse('{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000)) as unknown;
  expect(nestsDeeperThan(deep, 128)).toBe(true);
  expect(nestsDeeperThan(deep, 10_000)).toBe(false);
});
