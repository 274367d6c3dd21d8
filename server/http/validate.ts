// Parses request input with its zod schema; a mismatch becomes ValidationFailed (400) listing every issue,
// so routes never see unchecked input.
import type { ZodType } from 'zod';
import { ValidationFailed } from '../../core/errors';

export type RequestPart = 'body' | 'query' | 'params';

export interface ValidationIssue {
  /** Where the issue is, starting with the request part: `body.email`, `query.limit`. */
  path: string;
  message: string;
  code: string;
}

export function parseWith<T>(schema: ZodType<T>, value: unknown, where: RequestPart): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues: ValidationIssue[] = result.error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
    code: issue.code,
  }));
  throw new ValidationFailed(`invalid request ${where}`, { issues });
}
