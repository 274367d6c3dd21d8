// What each validator problem is called in the Problems list: a short phrase a user reads before the
// validator's own sentence, instead of a code such as TRIGGER_COUNT. Keyed by every code core/validate.ts has,
// so a new code fails the type check until it is named here.
import type { GraphProblemCode } from '../../../core/validate';

export const PROBLEM_TITLES: Record<GraphProblemCode, string> = {
  INVALID_DOCUMENT: 'The canvas is damaged',
  MISSING_NODE_ID: 'A node has no id',
  DUPLICATE_NODE_ID: 'Two nodes share an id',
  MISSING_EDGE_ID: 'A connection has no id',
  DUPLICATE_EDGE_ID: 'Two connections share an id',
  UNKNOWN_NODE_TYPE: 'Unknown kind of node',
  INVALID_NODE_CONFIG: 'A setting needs fixing',
  DANGLING_EDGE: 'A connection leads nowhere',
  INVALID_SOURCE_HANDLE: 'A connection starts from a wrong handle',
  EDGE_INTO_TRIGGER: 'Something connects into the trigger',
  SELF_LOOP: 'A node connects to itself',
  CYCLE: 'The connections go round in a loop',
  TRIGGER_COUNT: 'A workflow needs exactly one trigger',
  NO_OUTPUT: 'Nothing produces a result',
  UNREACHABLE_NODE: 'Not connected to the trigger',
  TEMPLATE_SYNTAX: 'A template does not parse',
  EXPRESSION_SYNTAX: 'An expression does not parse',
};
