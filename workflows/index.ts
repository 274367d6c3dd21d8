// Every workflow the worker registers (the bundle's entry point).
export { canvasRun, stateQuery } from './canvas-run';
export { exportRun, deploymentRun, stopDeploymentSignal } from './export-run';
