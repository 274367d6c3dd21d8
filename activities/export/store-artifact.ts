// The `storeExportArtifact` activity: copies the wheel into the content-addressed store under the data dir
// (`artifacts/sha256/<hex>.whl`). Writing to a temporary name and renaming makes a retry or a concurrent
// store of the same bytes harmless.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';

export interface StoredArtifact {
  sha256: string;
  sizeBytes: number;
  /** Relative to the data dir, so the store can move with it. */
  storagePath: string;
}

export function artifactPath(dataDir: string, storagePath: string): string {
  return path.join(dataDir, storagePath);
}

export async function storeArtifact(deps: { dataDir: string }, input: { wheelPath: string }): Promise<StoredArtifact> {
  const sha256 = await sha256Of(input.wheelPath);
  const storagePath = path.join('artifacts', 'sha256', `${sha256}.whl`);
  const target = artifactPath(deps.dataDir, storagePath);
  await mkdir(path.dirname(target), { recursive: true });
  const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
  await copyFile(input.wheelPath, temp);
  await rename(temp, target);
  const check = await sha256Of(target);
  if (check !== sha256) throw new Error(`stored artifact ${storagePath} does not match its checksum`);
  return { sha256, sizeBytes: (await stat(target)).size, storagePath };
}

export async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
