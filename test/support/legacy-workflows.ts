// A workflow bundle entry with the interpreter of 51439c9 as `canvasRun`: the worker that was deployed
// before issue 10, for the test that hands its waiting run over to today's worker.
export { legacyCanvasRun as canvasRun } from '../../workflows/legacy/canvas-run-51439c9';
