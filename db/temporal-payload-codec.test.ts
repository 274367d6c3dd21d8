import { defaultPayloadConverter, type Payload, type SerializationContext } from '@temporalio/common';
import { ENCRYPTED_ENCODING, KEY_ID_METADATA, PayloadCodecError, SYSTEM_PAYLOAD_OWNER, TENANT_METADATA, TenantPayloadCodec, tenantOfTemporalId } from './temporal-payload-codec';

const A = '6f1c2a52-1111-4a4a-8a8a-000000000001';
const B = '6f1c2a52-2222-4b4b-8b8b-000000000002';
const KEY = 'payload-test-key-payload-test-key';
const workflow = (tenantId: string, rest = 'execution/e1'): SerializationContext => ({ type: 'workflow', namespace: 'default', workflowId: `tenant/${tenantId}/${rest}` });
const activity = (tenantId: string): SerializationContext => ({ type: 'activity', namespace: 'default', workflowId: `tenant/${tenantId}/execution/e1`, activityId: '1', isLocal: false });
const json = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const valueOf = (p: Payload): unknown => defaultPayloadConverter.fromPayload(p);
const meta = (p: Payload, key: string) => Buffer.from(p.metadata?.[key] ?? new Uint8Array()).toString('utf8');

describe('TenantPayloadCodec', () => {
  const codec = new TenantPayloadCodec({ current: KEY });

  it('encrypts under the tenant of the workflow id and keeps the tenant and key id in clear', async () => {
    const [sealed] = await codec.encode([json({ prompt: 'Write about owls' })], workflow(A));
    expect(meta(sealed!, 'encoding')).toBe(ENCRYPTED_ENCODING);
    expect(meta(sealed!, TENANT_METADATA)).toBe(A);
    expect(meta(sealed!, KEY_ID_METADATA)).toMatch(/^[0-9a-f]{16}$/);
    expect(Buffer.from(sealed!.data!).toString('latin1')).not.toContain('owls');
    const [opened] = await codec.decode([sealed!]);
    expect(valueOf(opened!)).toEqual({ prompt: 'Write about owls' });
  });

  it('reads the tenant from an activity context and from child, map, schedule, export and deployment ids', async () => {
    for (const rest of ['execution/e1', 'execution/e1/map/m', 'schedule/s1/firing-2026-01-01T00:00:00Z', 'export/x', 'deployment/d']) {
      const [sealed] = await codec.encode([json(rest)], workflow(A, rest));
      expect(meta(sealed!, TENANT_METADATA)).toBe(A);
    }
    const [fromActivity] = await codec.encode([json('turn')], activity(B));
    expect(meta(fromActivity!, TENANT_METADATA)).toBe(B);
  });

  it('refuses to encrypt without a tenant in the context instead of guessing', async () => {
    await expect(codec.encode([json(1)])).rejects.toBeInstanceOf(PayloadCodecError);
    await expect(codec.encode([json(1)], { type: 'workflow', namespace: 'default', workflowId: 'bench-1' })).rejects.toThrow(/not under tenant/);
  });

  it("never opens a tenant's payload for another tenant: not under its context, not with its metadata swapped", async () => {
    const [sealed] = await codec.encode([json('secret of A')], workflow(A));
    await expect(codec.decode([sealed!], workflow(B))).rejects.toThrow(/of tenant .* reached a workflow of tenant/);
    const relabelled: Payload = { ...sealed!, metadata: { ...sealed!.metadata, [TENANT_METADATA]: Buffer.from(B) } };
    await expect(codec.decode([relabelled])).rejects.toThrow(/does not authenticate/);
    const altered = Buffer.from(sealed!.data!);
    altered[20] = (altered[20] ?? 0) ^ 1;
    await expect(codec.decode([{ ...sealed!, data: altered }])).rejects.toThrow(/does not authenticate/);
  });

  it('passes payloads that are not encrypted through unchanged (histories from before encryption)', async () => {
    const plain = json({ topic: 'old run' });
    const [out] = await codec.decode([plain], workflow(A));
    expect(out).toBe(plain);
  });

  it('decodes payloads of a previous key after rotation, and names an unknown key', async () => {
    const [old] = await new TenantPayloadCodec({ current: 'the-old-key-the-old-key' }).encode([json('before rotation')], workflow(A));
    const rotated = new TenantPayloadCodec({ current: KEY, previous: ['the-old-key-the-old-key'] });
    expect(valueOf((await rotated.decode([old!]))[0]!)).toBe('before rotation');
    await expect(codec.decode([old!])).rejects.toThrow(/neither ENCRYPTION_KEY nor one of ENCRYPTION_KEY_PREVIOUS/);
  });

  it("seals a system workflow's payloads (system/…, the retention sweep) for the system owner, which no tenant's context opens", async () => {
    const system: SerializationContext = { type: 'workflow', namespace: 'default', workflowId: 'system/retention/sweep' };
    const [sealed] = await codec.encode([json({ retentionDays: 30 })], system);
    expect(meta(sealed!, TENANT_METADATA)).toBe(SYSTEM_PAYLOAD_OWNER);
    expect(valueOf((await codec.decode([sealed!], system))[0]!)).toEqual({ retentionDays: 30 });
    await expect(codec.decode([sealed!], workflow(A))).rejects.toThrow(PayloadCodecError);
    await expect(codec.encode([json('x')], { type: 'workflow', namespace: 'default', workflowId: 'retention/sweep' })).rejects.toThrow(/no tenant to encrypt for/);
  });

  it('encrypts each payload with its own IV', async () => {
    const [one, two] = await codec.encode([json('same'), json('same')], workflow(A));
    expect(Buffer.from(one!.data!).equals(Buffer.from(two!.data!))).toBe(false);
  });
});

describe('tenantOfTemporalId', () => {
  it('reads tenant/<id>/… and nothing else', () => {
    expect(tenantOfTemporalId(`tenant/${A}/execution/x`)).toBe(A);
    expect(tenantOfTemporalId(`tenant/${A}`)).toBeNull();
    expect(tenantOfTemporalId('execution/x')).toBeNull();
    expect(tenantOfTemporalId(undefined)).toBeNull();
  });
});
