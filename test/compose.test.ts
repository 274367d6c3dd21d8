// docker-compose.yml and the Dockerfile cannot be run here (no image pulls), so their contract is checked
// statically: every service is buildable or pullable, processes get DESIGN §6's environment, the start
// order holds, secrets are required, and the image's entry point starts the right process.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';

const repoRoot = path.resolve(__dirname, '..');

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string | string[] };
  ports?: string[];
  deploy?: { replicas?: number };
  container_name?: string;
}

const composeText = readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText) as { services: Record<string, ComposeService> };
const services = compose.services;

function service(name: string): ComposeService {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
}

function commandText(name: string): string {
  const command = service(name).command;
  return Array.isArray(command) ? command.join('\n') : (command ?? '');
}

// DESIGN §6: what every Tessera process reads (the LLM keys are optional and may be empty).
const PROCESS_ENVIRONMENT = [
  'DATABASE_URL',
  'REDIS_URL',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_TASK_QUEUE',
  'JWT_SECRET',
  'ENCRYPTION_KEY',
  'NODE_ENV',
  'LOG_LEVEL',
  'DATA_DIR',
];
const API_ENVIRONMENT = [...PROCESS_ENVIRONMENT, 'PORT', 'TEMPORAL_UI_URL'];
const SECRETS = ['JWT_SECRET', 'ENCRYPTION_KEY', 'POSTGRES_PASSWORD'];

describe('docker-compose.yml', () => {
  test('every service has an image to pull or a build, and third-party images are pinned', () => {
    expect(Object.keys(services).length).toBeGreaterThan(0);
    for (const [name, definition] of Object.entries(services)) {
      expect({ name, runnable: Boolean(definition.image || definition.build) }).toEqual({ name, runnable: true });
    }
    expect(service('postgres').image).toBe('postgres:16');
    expect(service('redis').image).toBe('redis:7');
    for (const name of ['temporal-schema', 'temporal', 'temporal-namespace', 'temporal-ui']) {
      expect(service(name).image).toMatch(/^temporalio\/(admin-tools|server|ui):\$\{TEMPORAL_(UI_)?VERSION:-\d+\.\d+\.\d+\}$/);
    }
    expect(service('temporal-schema').image).toMatch(/^temporalio\/admin-tools:/);
    expect(service('temporal').image).toMatch(/^temporalio\/server:/);
    expect(service('temporal-ui').image).toMatch(/^temporalio\/ui:/);
  });

  test('migrate, api and worker run the Tessera image with their own command', () => {
    for (const name of ['migrate', 'api', 'worker']) {
      expect(service(name).build).toBe('.');
      expect(service(name).image).toBe(service('api').image);
      expect(service(name).command).toEqual([name]);
    }
  });

  test.each([
    ['api', API_ENVIRONMENT],
    ['worker', PROCESS_ENVIRONMENT],
    ['migrate', ['DATABASE_URL', 'NODE_ENV', 'LOG_LEVEL']],
  ])('%s gets every variable it reads, in production mode', (name, variables) => {
    const environment = service(name).environment ?? {};
    for (const variable of variables) {
      expect({ variable, value: environment[variable] }).toEqual({ variable, value: expect.stringMatching(/\S/) });
    }
    expect(environment.NODE_ENV).toBe('production');
    expect(environment.DATABASE_URL).toMatch(/@postgres:5432\/tessera$/);
    expect(environment.REDIS_URL).toBe('redis://redis:6379');
    expect(environment.TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  test('secrets must be supplied: every use is ${NAME:?message}, never a default', () => {
    for (const secret of SECRETS) {
      const uses = [...composeText.matchAll(new RegExp(`\\$\\{${secret}([^}]*)\\}`, 'g'))];
      expect({ secret, used: uses.length > 0 }).toEqual({ secret, used: true });
      for (const use of uses) expect({ secret, modifier: use[1] }).toEqual({ secret, modifier: expect.stringMatching(/^:\?\S/) });
    }
    expect(service('api').environment?.JWT_SECRET).toBe('${JWT_SECRET:?set JWT_SECRET}');
    expect(service('worker').environment?.ENCRYPTION_KEY).toBe('${ENCRYPTION_KEY:?set ENCRYPTION_KEY}');
  });

  test('postgres, redis and temporal report health', () => {
    expect(service('postgres').healthcheck?.test).toEqual(expect.arrayContaining([expect.stringContaining('pg_isready')]));
    expect(service('redis').healthcheck?.test).toEqual(expect.arrayContaining(['redis-cli', 'ping']));
    expect(service('temporal').healthcheck).toBeDefined();
  });

  test('services start in order: schema before Temporal, migrations before api and worker', () => {
    expect(service('temporal-schema').depends_on?.postgres).toEqual({ condition: 'service_healthy' });
    expect(service('temporal').depends_on?.['temporal-schema']).toEqual({ condition: 'service_completed_successfully' });
    expect(service('temporal-namespace').depends_on?.temporal).toEqual({ condition: 'service_healthy' });
    expect(service('migrate').depends_on?.postgres).toEqual({ condition: 'service_healthy' });
    for (const name of ['api', 'worker']) {
      expect(service(name).depends_on).toEqual({
        migrate: { condition: 'service_completed_successfully' },
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
        temporal: { condition: 'service_healthy' },
        'temporal-namespace': { condition: 'service_completed_successfully' },
      });
    }
  });

  test('the schema job sets up both Temporal databases and the namespace job registers the search attributes', () => {
    const schema = commandText('temporal-schema');
    expect(schema).toContain('temporal-sql-tool');
    expect(schema).toMatch(/for db in temporal temporal_visibility/);
    expect(schema).toContain('setup-schema');
    expect(schema).toContain('/temporal/versioned');
    expect(schema).toContain('/visibility/versioned');
    const namespace = commandText('temporal-namespace');
    expect(namespace).toContain('operator namespace create');
    expect(namespace).toContain('for name in TenantId TesseraWorkflowId ExecutionId');
    expect(namespace).toContain('--type Keyword');
  });

  test('publishes the API on 3000, Temporal on 7233 and its UI on 8233', () => {
    expect(service('api').ports).toContain('3000:3000');
    expect(service('temporal').ports).toContain('7233:7233');
    expect(service('temporal-ui').ports).toEqual([expect.stringMatching(/^8233:\d+$/)]);
    expect(service('worker').ports).toBeUndefined();
  });

  test('the worker scales horizontally', () => {
    expect(service('worker').deploy?.replicas).toBe(2);
    expect(service('worker').container_name).toBeUndefined();
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');

  test('builds on node:20-bookworm-slim with npm install from the lock and npm run build', () => {
    const bases = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((match) => match[1]);
    expect(new Set(bases)).toEqual(new Set(['node:20-bookworm-slim']));
    expect(dockerfile).toMatch(/^RUN npm install --no-audit --no-fund$/m);
    expect(dockerfile).toMatch(/^RUN npm run build\b/m);
    expect(dockerfile).toContain('ENTRYPOINT ["node", "scripts/container-entrypoint.mjs"]');
    expect(dockerfile).toContain('CMD ["api"]');
  });

  describe('its entry point', () => {
    let appDir: string;

    beforeAll(() => {
      // A stand-in for the built app: each "process" prints its name and arguments, and exits with 3.
      appDir = mkdtempSync(path.join(os.tmpdir(), 'tessera-entrypoint-'));
      mkdirSync(path.join(appDir, 'scripts'));
      copyFileSync(path.join(repoRoot, 'scripts/container-entrypoint.mjs'), path.join(appDir, 'scripts/container-entrypoint.mjs'));
      for (const [name, file] of [['api', 'dist/server/main.js'], ['worker', 'dist/worker/main.js'], ['migrate', 'dist/scripts/migrate.js']] as const) {
        mkdirSync(path.dirname(path.join(appDir, file)), { recursive: true });
        writeFileSync(path.join(appDir, file), `console.log(${JSON.stringify(name)}, process.argv.slice(2).join(' ')); process.exit(3);\n`);
      }
    });

    afterAll(() => rmSync(appDir, { recursive: true, force: true }));

    function entrypoint(...args: string[]) {
      return spawnSync(process.execPath, [path.join(appDir, 'scripts/container-entrypoint.mjs'), ...args], { encoding: 'utf8' });
    }

    test.each(['api', 'worker', 'migrate'])('"%s" runs the built %s process and exits with its code', (command) => {
      const result = entrypoint(command, '--flag');
      expect(result.stdout.trim()).toBe(`${command} --flag`);
      expect(result.status).toBe(3);
    });

    test('no argument runs the api', () => {
      expect(entrypoint().stdout.trim()).toBe('api');
    });

    test('an unknown command prints the usage and fails', () => {
      const result = entrypoint('shell');
      expect(result.status).toBe(64);
      expect(result.stderr).toContain('api|worker|migrate');
    });
  });
});
