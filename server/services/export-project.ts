// What an export and a deployment of it are both made from: the export's row, found in the caller's tenant,
// the project rendered from its saved workflow version, and a checked Docker base image.
import { compileGraph } from '../../core/compile';
import { IMAGE_REFERENCE } from '../../core/deployment-sandbox';
import { NotFound, ValidationFailed } from '../../core/errors';
import { exportNames } from '../../core/export-names';
import { compileExportPlan } from '../../core/export-plan';
import type { ExportRunInput } from '../../core/export-protocol';
import type { ExportRepository, ExportRow, TenantScope, WorkflowRepository } from '../../db';
import { requireUuid } from './ids';


/** The image asked for, or the configured default; anything but an image reference is a 400 on `baseImage`. */
export function checkBaseImage(image: string | undefined, fallback: string): string {
  const chosen = image ?? fallback;
  if (!IMAGE_REFERENCE.test(chosen) || chosen.length > 255) throw new ValidationFailed(`baseImage ${JSON.stringify(chosen)} is not a Docker image reference`, { field: 'baseImage' });
  return chosen;
}

/** An export of the caller's tenant by id; another tenant's, or an id that is no UUID, is a 404. */
export async function findExport(deps: { scope: TenantScope; exports: ExportRepository }, tenantId: string, id: string): Promise<ExportRow> {
  const exportId = requireUuid(id, 'export');
  const row = await deps.scope.run(tenantId, () => deps.exports.find(exportId));
  if (!row) throw new NotFound(`export ${id} not found`);
  return row;
}

/** The rendering input of an export, compiled again from its saved version (compilation is deterministic). */
export async function projectInput(
  deps: { scope: TenantScope; workflows: WorkflowRepository },
  tenantId: string,
  exportId: string,
  workflowId: string,
  version: number,
  baseImage: string,
): Promise<ExportRunInput> {
  const found = await deps.scope.run(tenantId, async () => ({ workflow: await deps.workflows.find(workflowId), saved: await deps.workflows.version(workflowId, version) }));
  if (!found.workflow || !found.saved) throw new NotFound(`workflow ${workflowId} version ${version} not found`);
  const plan = compileExportPlan(compileGraph(found.saved.graph, { workflowId, workflowVersion: version }));
  return { tenantId, exportId, plan, names: exportNames(found.workflow.name), baseImage };
}
