// Every workflow the worker registers (the bundle's entry point).
export { canvasRun, stateQuery } from './canvas-run';
export { mapRun } from './map-run';
export { exportRun } from './export-run';
export { deploymentRun, stopDeploymentSignal } from './deployment-run';
export { scheduledStart } from './scheduled-start';
export { retentionSweep } from './retention-sweep';
