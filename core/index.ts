// The public surface of core/: the canvas schema, validator, compiler, run plan, scheduler, templates,
// expressions, events and typed errors, for the server, the worker, the workflows and the web app.
export * from './graph';
export * from './plan';
export * from './events';
export * from './errors';
export * from './template';
export * from './expression';
export * from './inputs';
export * from './validate';
export * from './compile';
export * from './scheduler';
export * from './examples';
export * from './approval';
export * from './api-views';
export {
  step,
  initialState,
  isFinished,
  attemptsOf,
  mergeLedgers,
  DEFAULT_AGENT_ATTEMPTS,
  MAX_RETRY_INTERVAL_MS,
  type RunState,
  type MachineNodeState,
  type Happening,
  type Command,
  type AgentCall,
  type StepResult,
  type Ledger,
} from './run-machine';
export { ledgerKey, outputPreview, PREVIEW_CHARS, type LedgerNodeRow, type LedgerExecutionRow } from './run-ledger';
export * from './run-view';
