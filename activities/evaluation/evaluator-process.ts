// The program of one evaluation process (forked by pool.ts through workerpool): answers `evaluate` requests
// one at a time, and tells the pool the moment a text starts so that its wall-time limit starts then.
import { worker, workerEmit } from 'workerpool';
import { EVALUATION_STARTED, evaluateText, type EvaluationTask } from './evaluate-text';

worker({
  evaluate: (task: EvaluationTask) => evaluateText(task, () => workerEmit(EVALUATION_STARTED)),
});
