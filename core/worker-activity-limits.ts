// Defaults of the worker's activity slots and of one tenant's share of them (the README configuration table;
// enforced by worker/tenant-activity-gate.ts).

/** TENANT_MAX_CONCURRENT_ACTIVITIES: activities of one tenant executing at once in one worker process. */
export const DEFAULT_TENANT_MAX_CONCURRENT_ACTIVITIES = 50;

/**
 * WORKER_MAX_CONCURRENT_ACTIVITIES: the worker's activity slots, those waiting for their tenant's turn included.
 * Well above the SDK's 100, so that tenants over their share wait in the gate, not for a slot.
 */
export const DEFAULT_WORKER_MAX_CONCURRENT_ACTIVITIES = 1000;
