// Writes to WebSocket clients leave in as few system calls as possible: a socket written to in this turn
// of the event loop stays corked until the turn ends, so a burst of events (a run's ledger arrives as
// several Redis messages in one read) goes to each client in one writev instead of one per message.
// With thousands of subscribers of one run, those system calls are most of the cost of fanning out.
import type { Socket } from 'node:net';
import type WebSocket from 'ws';

/** `ws` keeps its net.Socket in `_socket` and has no public cork; the field has been there since ws 1.x. */
function netSocketOf(ws: WebSocket): Socket | undefined {
  return (ws as unknown as { _socket?: Socket })._socket;
}

export interface WriteCoalescer {
  send(ws: WebSocket, raw: string): void;
}

export function createWriteCoalescer(): WriteCoalescer {
  let corked: Socket[] = [];
  const flush = () => {
    const sockets = corked;
    corked = [];
    for (const socket of sockets) socket.uncork();
  };
  return {
    send(ws, raw) {
      const socket = netSocketOf(ws);
      if (socket && socket.writableCorked === 0 && !socket.destroyed) {
        socket.cork();
        if (corked.push(socket) === 1) setImmediate(flush);
      }
      ws.send(raw);
    },
  };
}
