// The public schema's migrations, in the order they run.
import type { MigrationInterface } from 'typeorm';
import { PublicInitial0001 } from './0001-initial';

export const publicMigrations: MigrationInterface[] = [new PublicInitial0001()];
