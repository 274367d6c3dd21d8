// The DEPLOY_* settings as loadConfig reads them: defaults, the sandbox a tenant gets, and readable errors.
import { ConfigError, loadConfig } from './config';
import { DEFAULT_DEPLOYMENT_SETTINGS, LOCAL_BASE_IMAGE, parseContainerUser, sandboxFor } from './deployment-sandbox';

const TENANT = '0b7f3c1e-4a5d-4f7e-9c2b-1d2e3f4a5b6c';
// Secrets of our own, so only the settings under test can be wrong.
const SECRETS = { JWT_SECRET: 'deployment-sandbox-test-jwt-secret', ENCRYPTION_KEY: 'deployment-sandbox-test-encryption-key' };

it('an unset environment allows only the locally built base image, runs as nobody with limits, and lets no tenant out', () => {
  const { deployments } = loadConfig(SECRETS);
  expect({ ...deployments, egressTenants: [...deployments.egressTenants] }).toEqual({
    allowedBaseImages: [LOCAL_BASE_IMAGE],
    user: '65534:65534',
    memoryMb: 512,
    cpus: 1,
    pidsLimit: 128,
    maxRunningPerTenant: 3,
    egressTenants: [],
  });
  expect(sandboxFor(deployments, TENANT)).toEqual({ user: '65534:65534', memoryBytes: 512 * 1024 * 1024, nanoCpus: 1_000_000_000, pidsLimit: 128, egress: false });
});

it('reads every DEPLOY_* setting, and egress goes only to the tenants listed', () => {
  const { deployments } = loadConfig({
    ...SECRETS,
    DEPLOY_ALLOWED_BASE_IMAGES: 'registry.local:5000/py:3.12, tessera-python-base:bookworm',
    DEPLOY_CONTAINER_USER: '1000:2000',
    DEPLOY_MEMORY_MB: '256',
    DEPLOY_CPUS: '0.25',
    DEPLOY_PIDS_LIMIT: '64',
    DEPLOY_MAX_RUNNING_PER_TENANT: '1',
    DEPLOY_EGRESS_TENANTS: TENANT.toUpperCase(),
  });
  expect(deployments.allowedBaseImages).toEqual(['registry.local:5000/py:3.12', 'tessera-python-base:bookworm']);
  expect(sandboxFor(deployments, TENANT)).toEqual({ user: '1000:2000', memoryBytes: 256 * 1024 * 1024, nanoCpus: 250_000_000, pidsLimit: 64, egress: true });
  expect(sandboxFor(deployments, '11111111-1111-4111-8111-111111111111').egress).toBe(false);
  expect(deployments.maxRunningPerTenant).toBe(1);
});

it.each([
  ['DEPLOY_CONTAINER_USER', '0:0', 'neither of them 0 (root)'],
  ['DEPLOY_CONTAINER_USER', 'root', 'must be uid:gid'],
  ['DEPLOY_CONTAINER_USER', '1000:0', 'neither of them 0'],
  ['DEPLOY_ALLOWED_BASE_IMAGES', 'python:3.12 slim', 'is not a Docker image reference'],
  ['DEPLOY_ALLOWED_BASE_IMAGES', ' , ', 'needs at least one image'],
  ['DEPLOY_EGRESS_TENANTS', 'acme', 'is not a tenant id'],
  ['DEPLOY_MEMORY_MB', '8', 'DEPLOY_MEMORY_MB'],
  ['DEPLOY_PIDS_LIMIT', 'lots', 'DEPLOY_PIDS_LIMIT'],
  ['DEPLOY_MAX_RUNNING_PER_TENANT', '0', 'DEPLOY_MAX_RUNNING_PER_TENANT'],
])('%s=%j is a config error that says %j', (name, value, says) => {
  expect(() => loadConfig({ ...SECRETS, [name]: value })).toThrow(ConfigError);
  expect(() => loadConfig({ ...SECRETS, [name]: value })).toThrow(says);
});

it('parseContainerUser keeps numeric non-root uid:gid only', () => {
  expect(parseContainerUser(' 010:20 ')).toBe('10:20');
  expect(parseContainerUser('1000')).toBeNull();
  expect(DEFAULT_DEPLOYMENT_SETTINGS.egressTenants.size).toBe(0);
});
