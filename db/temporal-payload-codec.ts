// The payload codec of every Temporal client and worker of Tessera (DESIGN.md §8 "Temporal payloads"):
// AES-256-GCM under a data key per tenant, derived from ENCRYPTION_KEY like the vault's key, so Temporal's
// store, UI and CLI only ever hold ciphertext, and one tenant's key never opens another tenant's payload.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec, SerializationContext } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { SYSTEM_TEMPORAL_ID_PREFIX } from '../core/events';
import { vaultKeyId } from './vault';

/** The `encoding` of an encrypted payload; its `data` is IV ‖ ciphertext ‖ tag of the original payload's protobuf. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata an encrypted payload keeps in clear, so it decodes (and is checked) without any context. */
export const TENANT_METADATA = 'tessera-tenant-id';
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Data keys kept derived (one per key and tenant in use). */
const DATA_KEYS_KEPT = 10_000;
const TENANT_ID_FORMAT = /^tenant\/([0-9A-Za-z-]{1,64})\//;

/** The tenant a Temporal workflow or schedule id belongs to (`tenant/<tenantId>/…`), or null for any other id. */
export function tenantOfTemporalId(id: string | undefined): string | null {
  return id ? (TENANT_ID_FORMAT.exec(id)?.[1] ?? null) : null;
}

/**
 * The owner a payload is sealed for: Temporal's serialization context names its workflow id, which is a tenant's
 * (`tenant/<id>/…`) or one of Tessera's own system workflows (`system/…`, the retention sweep), sealed for the
 * reserved owner SYSTEM_PAYLOAD_OWNER, which is no tenant id, so no tenant's owner or admin can decode it.
 */
export function tenantOfContext(context: SerializationContext | undefined): string | null {
  const workflowId = context?.workflowId;
  if (workflowId?.startsWith(SYSTEM_TEMPORAL_ID_PREFIX)) return SYSTEM_PAYLOAD_OWNER;
  return tenantOfTemporalId(workflowId);
}

/** The owner of system workflows' payloads (tenant ids are UUIDs, so none is `system`). */
export const SYSTEM_PAYLOAD_OWNER = 'system';

/** The data converter of every Tessera client, worker and replayer: the default payload converter behind the codec, failures encoded. */
export function tesseraDataConverter(payloadCodec: PayloadCodec): DataConverter {
  return { payloadCodecs: [payloadCodec], failureConverterPath: TESSERA_FAILURE_CONVERTER_PATH };
}

/** db/temporal-failure-converter.ts, by path: the workflow bundle compiles the same module in. */
export const TESSERA_FAILURE_CONVERTER_PATH = require.resolve('./temporal-failure-converter');

export class PayloadCodecError extends Error {
  override name = 'PayloadCodecError';
}

export interface PayloadKeys {
  /** ENCRYPTION_KEY: what new payloads are encrypted under. */
  current: string;
  /** Keys of a rotation in progress: payloads written under them still decode. */
  previous?: readonly string[];
}

interface MasterKey {
  id: string;
  secret: Buffer;
}

const utf8 = (s: string) => Buffer.from(s, 'utf8');
const text = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : '');


export class TenantPayloadCodec implements PayloadCodec {
  private readonly current: MasterKey;
  private readonly byId = new Map<string, MasterKey>();
  /** Data keys by key id and tenant: every payload needs one, and HKDF per payload would repeat the same work. */
  private readonly dataKeys = new Map<string, Buffer>();

  constructor(keys: PayloadKeys) {
    this.current = { id: vaultKeyId(keys.current), secret: utf8(keys.current) };
    for (const secret of [keys.current, ...(keys.previous ?? [])]) {
      const id = vaultKeyId(secret);
      if (!this.byId.has(id)) this.byId.set(id, { id, secret: utf8(secret) });
    }
  }

  /** Encrypts for the tenant of the owning workflow; a payload of no tenant's workflow is refused, never guessed. */
  async encode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    const tenantId = tenantOfContext(context);
    if (!tenantId) {
      throw new PayloadCodecError(`no tenant to encrypt for: the payload's workflow id ${JSON.stringify(context?.workflowId ?? null)} is not under tenant/<id>/`);
    }
    return payloads.map((p) => this.seal(p, tenantId));
  }

  /**
   * Decrypts what is encrypted and passes everything else through (histories from before encryption). When the
   * context names a tenant, a payload of another tenant is refused even though its own metadata would open it.
   */
  async decode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    const expected = tenantOfContext(context);
    return payloads.map((p) => {
      const owner = this.tenantOf(p);
      if (owner !== null && expected !== null && owner !== expected) {
        throw new PayloadCodecError(`a payload of tenant ${owner} reached a workflow of tenant ${expected}`);
      }
      return this.open(p);
    });
  }

  /** The tenant an encrypted payload belongs to; null for a payload that is not encrypted. */
  tenantOf(payload: Payload): string | null {
    if (text(payload.metadata?.encoding) !== ENCRYPTED_ENCODING) return null;
    const tenantId = text(payload.metadata?.[TENANT_METADATA]);
    if (!tenantId) throw new PayloadCodecError('an encrypted payload without its tenant id');
    return tenantId;
  }

  seal(payload: Payload, tenantId: string): Payload {
    if (text(payload.metadata?.encoding) === ENCRYPTED_ENCODING) return payload;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.dataKey(this.current, tenantId), iv);
    cipher.setAAD(associatedData(tenantId, this.current.id));
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: { encoding: utf8(ENCRYPTED_ENCODING), [TENANT_METADATA]: utf8(tenantId), [KEY_ID_METADATA]: utf8(this.current.id) },
      data: sealed,
    };
  }

  open(payload: Payload): Payload {
    const tenantId = this.tenantOf(payload);
    if (tenantId === null) return payload;
    const id = text(payload.metadata?.[KEY_ID_METADATA]);
    const key = this.byId.get(id);
    if (!key) throw new PayloadCodecError(`payload encrypted under key ${id || '(none)'}, which is neither ENCRYPTION_KEY nor one of ENCRYPTION_KEY_PREVIOUS`);
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadCodecError('an encrypted payload too short to hold its IV and tag');
    const decipher = createDecipheriv('aes-256-gcm', this.dataKey(key, tenantId), data.subarray(0, IV_BYTES));
    decipher.setAAD(associatedData(tenantId, key.id));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      // GCM's tag check: altered bytes, or metadata naming another tenant than the one it was sealed for.
      throw new PayloadCodecError(`an encrypted payload of tenant ${tenantId} does not authenticate`);
    }
    const decoded = temporal.api.common.v1.Payload.decode(plain);
    return { metadata: decoded.metadata ?? {}, data: decoded.data ?? new Uint8Array() };
  }

  /** HKDF per tenant: the tenant id is the HKDF info, so each tenant's data key is independent of the others'. */
  private dataKey(key: MasterKey, tenantId: string): Buffer {
    const name = `${key.id}:${tenantId}`;
    let derived = this.dataKeys.get(name);
    if (!derived) {
      derived = Buffer.from(hkdfSync('sha256', key.secret, utf8('tessera'), utf8(`temporal-payload-v1:${tenantId}`), 32));
      // Bounded: tenants come and go; forgetting a key only means deriving it again.
      if (this.dataKeys.size >= DATA_KEYS_KEPT) this.dataKeys.clear();
      this.dataKeys.set(name, derived);
    }
    return derived;
  }
}

/** Bound into the tag: moving a payload's metadata to another tenant or key fails authentication. */
function associatedData(tenantId: string, keyIdValue: string): Buffer {
  return utf8(`tessera-temporal-payload:${tenantId}:${keyIdValue}`);
}
