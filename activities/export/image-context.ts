// The build context of a deployment image: a directory packed as a gzipped tar, read completely into memory
// before anything is sent to the engine. dockerode can pack a `{context, src}` itself, but its tar stream has
// no 'error' listener: when the engine was unreachable and the directory was removed while the pack still
// read it, the pack's ENOENT killed the worker. Packed here, every stage of the pipeline has its error
// handled, and the directory may go as soon as this resolves. (A context is the rendered project and one
// wheel: kilobytes to a few megabytes.)
import { createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-fs';

export async function packImageContext(dir: string, files: string[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(pack(dir, { entries: files }), createGzip(), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) chunks.push(chunk);
  });
  return Buffer.concat(chunks);
}
