// The public schema's migrations, in the order they run.
import type { MigrationInterface } from 'typeorm';
import { PublicInitial0001 } from './0001-initial';
import { PublicApiKeys0002 } from './0002-api-keys';
import { PublicWebhookRoutes0003 } from './0003-webhook-routes';

export const publicMigrations: MigrationInterface[] = [new PublicInitial0001(), new PublicApiKeys0002(), new PublicWebhookRoutes0003()];
