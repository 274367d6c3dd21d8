// The failure of one node of a run, carrying the code and message the run's error will show.
export class NodeFailed extends Error {
  constructor(
    readonly nodeId: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'NodeFailed';
  }
}
