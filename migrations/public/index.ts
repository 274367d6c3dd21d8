// The public schema's migrations, in the order they run.
import type { MigrationInterface } from 'typeorm';
import { PublicInitial0001 } from './0001-initial';
import { PublicApiKeys0002 } from './0002-api-keys';

export const publicMigrations: MigrationInterface[] = [new PublicInitial0001(), new PublicApiKeys0002()];
