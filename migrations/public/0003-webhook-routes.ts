// Public schema: which tenant a webhook belongs to. POST /hooks/:id names no tenant (its only credential is
// the signature), so the hook id is looked up here before the tenant's own webhooks table is read.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class PublicWebhookRoutes0003 implements MigrationInterface {
  name = '0003-public-webhook-routes';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table public.webhook_routes (
        id uuid primary key,
        tenant_id uuid not null references public.tenants(id) on delete cascade
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table public.webhook_routes');
  }
}
