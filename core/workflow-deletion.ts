// What deleting a workflow does, in one sentence that the API documents (DELETE /workflows/:id) and the web app's
// delete dialog shows, so the two say what server/services/workflow-deletion.ts does.

/** Deleting a workflow keeps its history: the runs, exports and deployments stay readable (docs/decisions.md). */
export const WORKFLOW_DELETION_EFFECTS =
  'Its running runs are cancelled, its deployments stopped and its schedules and webhooks deleted; its runs, exports and deployments stay in the history.';
