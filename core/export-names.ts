// The names an exported package goes by, derived from the workflow's name so users recognise it, but reduced to
// characters that are valid everywhere they appear (PyPI name, Python module, console script, Docker tag).
const MAX_SLUG = 40;

export interface ExportNames {
  /** PEP 503-normalised distribution name, e.g. `tessera-weekly-digest`. */
  distributionName: string;
  /** The importable package, e.g. `tessera_weekly_digest` (prefixed, so never a keyword or a digit first). */
  moduleName: string;
  /** The console script, the same as the distribution name. */
  scriptName: string;
  /** The workflow's name on one line, for the package summary and README title. */
  title: string;
}

export function exportNames(workflowName: string): ExportNames {
  const slug =
    workflowName
      .normalize('NFKD')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, MAX_SLUG)
      .replace(/-+$/g, '') || 'workflow';
  const distributionName = `tessera-${slug}`;
  return {
    distributionName,
    moduleName: distributionName.replace(/-/g, '_'),
    scriptName: distributionName,
    title: oneLine(workflowName) || 'Untitled workflow',
  };
}

/** Control characters and line breaks become spaces: a package summary is one line. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim().slice(0, 200);
}
