// The coalescer holds a turn's writes to a socket and lets them go together, in order, when the turn ends.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { createWriteCoalescer } from './write-coalescer';

describe('write coalescer', () => {
  let wss: WebSocketServer;
  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(wss, 'listening');
  });
  afterAll(() => new Promise<void>((resolve) => wss.close(() => resolve())));

  it('sends a burst in order, corked only until the turn ends', async () => {
    const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    const [server] = await accepted;
    await once(client, 'open');
    const received: string[] = [];
    const all = new Promise<void>((resolve) =>
      client.on('message', (data: Buffer) => {
        received.push(data.toString());
        if (received.length === 50) resolve();
      }),
    );
    const writes = createWriteCoalescer();
    const socket = (server as unknown as { _socket: Socket })._socket;
    for (let i = 0; i < 50; i++) writes.send(server, `m${i}`);
    expect(socket.writableCorked).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(socket.writableCorked).toBe(0);
    await all;
    expect(received).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    client.close();
  });

  it('leaves a closed socket alone', async () => {
    const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    const [server] = await accepted;
    await once(client, 'open');
    const socket = (server as unknown as { _socket: Socket })._socket;
    socket.destroy();
    const writes = createWriteCoalescer();
    writes.send(server, 'late');
    expect(socket.writableCorked).toBe(0);
    client.terminate();
  });
});
