// Runs the exported package's template and expression evaluators (templates/package/*.py) in Debian's
// Python on a batch of cases, so tests can compare them with the platform's Handlebars and JSONata.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const SYSTEM_PYTHON = '/usr/bin/python3';

export type PythonCase = { kind: 'template' | 'expression'; ast: unknown; scope: unknown };
/** `value` is JSON text, or null for undefined; `error` is set when evaluation raised. */
export type PythonResult = { value: string | null; error?: string };

const DRIVER = `
import json, sys
from probe import handlebars, jsonata
from probe.jsvalues import UNDEFINED, to_json, parse_json
cases = parse_json(sys.stdin.read())
out = []
for case in cases:
    try:
        if case["kind"] == "template":
            value = handlebars.render(case["ast"], case["scope"])
        else:
            value = jsonata.evaluate(case["ast"], case["scope"])
        encoded = to_json(value)
        out.append({"value": None if encoded is UNDEFINED else encoded})
    except Exception as err:
        out.append({"value": None, "error": type(err).__name__ + ": " + str(err)})
sys.stdout.write(json.dumps(out))
`;

/** The package's Python sources (templates/package) as module `probe` in `dir`, without a plan; answers its path. */
export function stagePackage(dir: string): string {
  const pkg = path.join(dir, 'probe');
  cpSync(path.resolve(__dirname, '../../templates/package'), pkg, { recursive: true, filter: (from) => !from.endsWith('.hbs') });
  writeFileSync(path.join(pkg, '__init__.py'), 'PACKAGE_TITLE = "probe"\n__version__ = "0"\n');
  return pkg;
}

export function evaluateInPython(cases: PythonCase[]): PythonResult[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'tessera-probe-'));
  try {
    stagePackage(dir);
    writeFileSync(path.join(dir, 'driver.py'), DRIVER);
    const stdout = execFileSync(SYSTEM_PYTHON, ['driver.py'], { cwd: dir, input: JSON.stringify(cases), encoding: 'utf8' });
    return JSON.parse(stdout) as PythonResult[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
