// Evaluation of a run's expressions and templates outside the workflow sandbox: the process pool and the
// `evaluateNodes` activity that uses it.
export { EvaluationPool, type EvaluationPoolOptions } from './pool';
export { createEvaluationActivities, type EvaluationActivityDeps } from './evaluate-nodes';
