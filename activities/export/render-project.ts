// The `renderExportProject` activity: writes the Python project of an export (templates/ rendered with
// Handlebars, the compiled plan as package data) into the export's work directory. Deterministic, so a
// retry or a later step on a fresh disk can render it again.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Handlebars from 'handlebars';
import type { ExportPlan } from '../../core/export-plan';
import type { ExportNames } from '../../core/export-names';

export const TEMPLATES_DIR = path.resolve(__dirname, '../../templates');

export interface RenderProjectInput {
  tenantId: string;
  exportId: string;
  plan: ExportPlan;
  names: ExportNames;
  baseImage: string;
}

export interface RenderedProject {
  projectDir: string;
  files: string[];
}

// An instance of our own whose helpers are the only way a value reaches the output: every user string is
// escaped for the language of the file it lands in.
const project = Handlebars.create();
project.registerHelper('toml', (value: unknown) => tomlString(String(value)));
project.registerHelper('py', (value: unknown) => pythonString(String(value)));
project.registerHelper('markdown', (value: unknown) => String(value).replace(/[\\`*_{}[\]()#+\-.!<>|~]/g, (c) => `\\${c}`));

/** A TOML basic string: quotes, backslashes and every control character escaped. */
export function tomlString(text: string): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === '"') out += '\\"';
    else if (char === '\\') out += '\\\\';
    else if (char === '\n') out += '\\n';
    else if (char === '\t') out += '\\t';
    else if (char === '\r') out += '\\r';
    else if (code < 0x20 || code === 0x7f || (code >= 0xd800 && code <= 0xdfff)) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += char;
  }
  return `${out}"`;
}

/** A Python str literal in pure ASCII: nothing a user writes can close it or start code. */
export function pythonString(text: string): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === '"') out += '\\"';
    else if (char === '\\') out += '\\\\';
    else if (code >= 0x20 && code < 0x7f) out += char;
    else if (code <= 0xffff) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += `\\U${code.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

export function exportWorkDir(dataDir: string, tenantId: string, exportId: string): string {
  return path.join(dataDir, 'exports', 'work', tenantId, exportId);
}

/** Renders the project into `projectDir` (replacing what was there) and returns the files written. */
export async function renderProject(input: RenderProjectInput, projectDir: string): Promise<RenderedProject> {
  const { names, plan } = input;
  const context = {
    ...names,
    workflowId: plan.workflowId,
    version: String(plan.workflowVersion),
    summary: `${names.title} (exported Tessera workflow)`,
    entryPoint: `${names.moduleName}.cli:main`,
    inputs: plan.inputs,
    baseImage: input.baseImage,
  };
  await rm(projectDir, { recursive: true, force: true });
  const files: string[] = [];
  async function walk(from: string, to: string): Promise<void> {
    await mkdir(to, { recursive: true });
    for (const entry of await readdir(from, { withFileTypes: true })) {
      const source = path.join(from, entry.name);
      if (entry.isDirectory()) {
        await walk(source, path.join(to, entry.name === 'package' ? names.moduleName : entry.name));
        continue;
      }
      const text = await readFile(source, 'utf8');
      const rendered = entry.name.endsWith('.hbs') ? project.compile(text, { noEscape: true, strict: false })(context) : text;
      const target = path.join(to, entry.name.replace(/\.hbs$/, ''));
      await writeFile(target, rendered);
      files.push(path.relative(projectDir, target));
    }
  }
  await walk(TEMPLATES_DIR, projectDir);
  const planFile = path.join(projectDir, names.moduleName, 'plan.json');
  await writeFile(planFile, JSON.stringify(plan));
  files.push(path.relative(projectDir, planFile));
  return { projectDir, files: files.sort() };
}
