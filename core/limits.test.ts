import { formatBytes, jsonBytes, utf8Length } from './limits';

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
