import type { EvaluateNodesInput } from './evaluation-protocol';
import { evaluateWaveInline } from './inline-evaluation';

const limits = { nodeOutputMaxBytes: 1024, runOutputsMaxBytes: 4096 };
const template = (source: string) => ({ kind: 'template' as const, source });

function wave(nodes: EvaluateNodesInput['nodes'], used = { run: 0, outputs: 0 }): EvaluateNodesInput {
  return { scope: { inputs: { topic: 'otters', long: 'x'.repeat(600) }, nodes: { draft: { text: 'hello' } } }, nowMs: 0, nodes, usedBytes: used };
}

describe('evaluateWaveInline', () => {
  it('renders a wave of inline templates with their bytes', () => {
    const out = evaluateWaveInline(wave([{ nodeId: 'a', fields: { prompt: template('About {{inputs.topic}}'), system: template('terse') } }, { nodeId: 'done', fields: { value: template('{{nodes.draft.text}}') }, runOutput: true }]), limits);
    expect(out).toEqual({
      results: {
        a: { status: 'evaluated', values: { prompt: 'About otters', system: 'terse' }, bytes: 21 },
        done: { status: 'evaluated', values: { value: 'hello' }, bytes: 7 },
      },
    });
  });

  it('leaves the whole wave to the evaluators when one text is not inline', () => {
    expect(evaluateWaveInline(wave([{ nodeId: 'a', fields: { prompt: template('{{inputs.topic}}') } }, { nodeId: 'b', fields: { value: { kind: 'expression', source: 'inputs.topic' } } }]), limits)).toBeNull();
    expect(evaluateWaveInline(wave([{ nodeId: 'a', fields: { prompt: template('{{#each inputs}}x{{/each}}') } }]), limits)).toBeNull();
  });

  it('fails a text above the one-value cap, and a node that would pass the run budget', () => {
    const big = evaluateWaveInline(wave([{ nodeId: 'a', fields: { prompt: template('{{inputs.long}}{{inputs.long}}') } }]), limits);
    expect(big?.results.a).toEqual({ status: 'failed', code: 'OUTPUT_TOO_LARGE', message: 'the value is 1.2 KiB, above the 1 KiB limit (NODE_OUTPUT_MAX_BYTES=1024)' });
    const over = evaluateWaveInline(wave([{ nodeId: 'a', fields: { prompt: template('{{inputs.long}}') } }], { run: 3600, outputs: 0 }), limits);
    expect(over?.results.a).toMatchObject({ status: 'failed', code: 'OUTPUT_TOO_LARGE', message: expect.stringContaining('RUN_OUTPUTS_MAX_BYTES=4096') });
  });

  it('defers what would make one result larger than one node’s cap', () => {
    const out = evaluateWaveInline(wave([{ nodeId: 'a', fields: { value: template('{{inputs.long}}') } }, { nodeId: 'b', fields: { value: template('{{inputs.long}}') } }]), limits);
    expect(out?.results.a).toMatchObject({ status: 'evaluated' });
    expect(out?.results.b).toEqual({ status: 'deferred' });
  });
});
