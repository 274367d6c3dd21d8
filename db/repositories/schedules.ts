// The schedules of a tenant's workflows: the row a tenant lists and that scopes the Temporal Schedule it
// names (which holds the timing and fires the runs). Runs inside the caller's TenantScope.
import { returnedRows } from '../returning';
import type { TenantScope } from '../tenant-scope';

/** When a schedule fires: a cron expression (in a time zone) or a fixed interval. */
import type { ScheduleSpec } from '../../core/api-views';

export type { ScheduleSpec } from '../../core/api-views';

export interface ScheduleRecord {
  id: string;
  workflowId: string;
  spec: ScheduleSpec;
  inputs: Record<string, unknown>;
  paused: boolean;
  createdBy: string | null;
  createdAt: Date;
}

interface ScheduleRow {
  id: string;
  workflow_id: string;
  spec: ScheduleSpec;
  inputs: Record<string, unknown>;
  paused: boolean;
  created_by: string | null;
  created_at: Date;
}

const COLUMNS = 'id, workflow_id, spec, inputs, paused, created_by, created_at';

function record(r: ScheduleRow): ScheduleRecord {
  return { id: r.id, workflowId: r.workflow_id, spec: r.spec, inputs: r.inputs, paused: r.paused, createdBy: r.created_by, createdAt: r.created_at };
}

export class ScheduleRepository {
  constructor(private readonly scope: TenantScope) {}

  async create(input: { id: string; workflowId: string; spec: ScheduleSpec; inputs: Record<string, unknown>; paused: boolean; createdBy: string | null }): Promise<ScheduleRecord> {
    const rows: ScheduleRow[] = await this.scope
      .manager()
      .query(`insert into schedules (id, workflow_id, spec, inputs, paused, created_by) values ($1, $2, $3, $4, $5, $6) returning ${COLUMNS}`, [
        input.id,
        input.workflowId,
        JSON.stringify(input.spec),
        JSON.stringify(input.inputs),
        input.paused,
        input.createdBy,
      ]);
    return record(rows[0] as ScheduleRow);
  }

  async listOf(workflowId: string): Promise<ScheduleRecord[]> {
    const rows: ScheduleRow[] = await this.scope.manager().query(`select ${COLUMNS} from schedules where workflow_id = $1 order by created_at, id`, [workflowId]);
    return rows.map(record);
  }

  async listAll(): Promise<ScheduleRecord[]> {
    const rows: ScheduleRow[] = await this.scope.manager().query(`select ${COLUMNS} from schedules order by created_at, id`);
    return rows.map(record);
  }

  async get(id: string): Promise<ScheduleRecord | null> {
    const rows: ScheduleRow[] = await this.scope.manager().query(`select ${COLUMNS} from schedules where id = $1`, [id]);
    return rows[0] ? record(rows[0]) : null;
  }

  async update(id: string, change: { spec?: ScheduleSpec; inputs?: Record<string, unknown>; paused?: boolean }): Promise<ScheduleRecord | null> {
    const rows = returnedRows<ScheduleRow>(
      await this.scope.manager().query(
        `update schedules set spec = coalesce($2::jsonb, spec), inputs = coalesce($3::jsonb, inputs), paused = coalesce($4, paused) where id = $1 returning ${COLUMNS}`,
        [id, change.spec ? JSON.stringify(change.spec) : null, change.inputs ? JSON.stringify(change.inputs) : null, change.paused ?? null],
      ),
    );
    return rows[0] ? record(rows[0]) : null;
  }

  async remove(id: string): Promise<boolean> {
    return returnedRows<{ id: string }>(await this.scope.manager().query(`delete from schedules where id = $1 returning id`, [id])).length > 0;
  }
}
