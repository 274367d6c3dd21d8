// A wave of texts evaluated where the run is, without the `evaluateNodes` local activity: only when every text
// of the wave is an inline template (core/inline-template.ts), whose rendering is a few string operations and
// the same as Handlebars'. The values then meet the same caps as in the activity (core/evaluation-budget.ts).
// Pure: the workflow calls it inside its sandbox.
import { settleWave, valueTooLarge, type FieldOutcome } from './evaluation-budget';
import type { EvaluateNodesInput, EvaluateNodesOutput } from './evaluation-protocol';
import { inlineTemplate, renderInline } from './inline-template';
import { utf8Length, type OutputLimits } from './limits';

/** The wave's results, or null when one of its texts needs the evaluation threads. */
export function evaluateWaveInline(input: EvaluateNodesInput, limits: OutputLimits): EvaluateNodesOutput | null {
  const fields: Array<Array<[string, FieldOutcome]>> = [];
  for (const node of input.nodes) {
    const outcomes: Array<[string, FieldOutcome]> = [];
    for (const [name, field] of Object.entries(node.fields)) {
      const template = field.kind === 'template' ? inlineTemplate(field.source) : null;
      const text = template ? renderInline(template, input.scope) : undefined;
      if (text === undefined) return null;
      // Measured as the threads measure: the UTF-8 bytes of the value's JSON.
      const bytes = utf8Length(JSON.stringify(text));
      outcomes.push([name, bytes > limits.nodeOutputMaxBytes ? valueTooLarge(bytes, limits.nodeOutputMaxBytes) : { ok: true, value: text, bytes }]);
    }
    fields.push(outcomes);
  }
  return { results: settleWave(input, fields, limits) };
}
