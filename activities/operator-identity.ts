// Who sent an operator's `decision` signal, in Temporal's own words: the identity the sender's client gave,
// which Temporal records on the WorkflowExecutionSignaled event. A workflow cannot see it (the SDK hands a
// signal handler only its name and arguments), so this activity reads it from the run's history.
import { Context } from '@temporalio/activity';
import { DECISION_SIGNAL, temporalText } from '../core/run-protocol';

export interface OperatorIdentityInput {
  /** Which `decision` signal of the run, counted from 0 in the order the workflow handled them (history order). */
  signalIndex: number;
}

/** The sender's identity, or null when Temporal recorded none (a client that set an empty identity). */
export async function operatorSignalIdentity(input: OperatorIdentityInput): Promise<string | null> {
  const { workflowExecution } = Context.current().info;
  if (!workflowExecution) return null;
  const history = await Context.current().client.workflow.getHandle(workflowExecution.workflowId, workflowExecution.runId).fetchHistory();
  const signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === DECISION_SIGNAL);
  const identity = signals[input.signalIndex]?.workflowExecutionSignaledEventAttributes?.identity;
  return temporalText(identity);
}
