// Lints deploy/Dockerfile with dockerfile-utils (the Dockerfile linter of the VS Code Docker
// language server: instructions, flags, durations, ports, JSON forms; hadolint is in none of the
// registries reached here), then checks the shape this project's images rely on.
import { readFileSync } from 'node:fs';
import { DockerfileParser } from 'dockerfile-ast';
import { validate, ValidationSeverity } from 'dockerfile-utils';

interface Step {
  keyword: string;
  args: string;
}

const ERROR = ValidationSeverity.ERROR;
/** Every optional rule as an error: a warning fails the lint too. */
const STRICT = {
  deprecatedMaintainer: ERROR,
  directiveCasing: ERROR,
  emptyContinuationLine: ERROR,
  instructionCasing: ERROR,
  instructionCmdMultiple: ERROR,
  instructionEntrypointMultiple: ERROR,
  instructionHealthcheckMultiple: ERROR,
  instructionJSONInSingleQuotes: ERROR,
  instructionWorkdirRelative: ERROR,
};

/** Replaces `${NAME}` / `$NAME` with the global ARG defaults (the ARGs before the first FROM). */
function expand(text: string, args: Map<string, string>): string {
  return text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (whole, name: string) => args.get(name) ?? whole);
}

function shapeProblems(content: string): string[] {
  const problems: string[] = [];
  const dockerfile = DockerfileParser.parse(content);
  const globalArgs = new Map<string, string>();
  for (const arg of dockerfile.getInitialARGs()) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(arg.getArgumentsContent() ?? '');
    if (m) globalArgs.set(m[1], m[2].replace(/^"|"$/g, ''));
  }
  const froms = dockerfile.getFROMs();
  if (froms.length < 2) problems.push('not multi-stage: a build stage and a runtime stage are expected');
  const stageNames = new Set(froms.map((f) => f.getBuildStage()).filter((s) => s !== null));
  for (const from of froms) {
    const image = expand(from.getImage() ?? '', globalArgs);
    if (!stageNames.has(image) && !/^node:24[.-]/.test(image)) problems.push(`FROM ${image}: the base must be an official Node 24 image (node:24-*)`);
  }
  const all: Step[] = dockerfile.getInstructions().map((i) => ({ keyword: i.getKeyword(), args: i.getArgumentsContent() ?? '' }));
  const runs = all.filter((s) => s.keyword === 'RUN').map((s) => s.args);
  if (!runs.some((r) => /\bnpm ci\b/.test(r) && !r.includes('--omit=dev'))) problems.push('no `npm ci` of the full workspace (build stage)');
  if (!runs.some((r) => /\bnpm run build\b/.test(r))) problems.push('no `npm run build`');
  if (!runs.some((r) => /\bnpm ci\b.*--omit=dev/.test(r))) problems.push('no `npm ci --omit=dev` (production dependencies only)');
  // The last stage is the image that runs.
  const runtime = all.slice(Math.max(0, all.findLastIndex((s) => s.keyword === 'FROM')));
  const user = runtime.filter((s) => s.keyword === 'USER').at(-1)?.args.trim();
  if (!user) problems.push('runtime stage: no USER (it would run as root)');
  else if (/^(root|0)(:|$)/.test(user)) problems.push(`runtime stage: USER ${user} is root`);
  if (!runtime.some((s) => s.keyword === 'HEALTHCHECK' && !/^NONE$/i.test(s.args.trim()))) problems.push('runtime stage: no HEALTHCHECK');
  if (!runtime.some((s) => s.keyword === 'CMD' || s.keyword === 'ENTRYPOINT')) problems.push('runtime stage: no CMD or ENTRYPOINT');
  return problems;
}

/**
 * Problems of a Dockerfile (empty = valid): linter diagnostics as `line N: message`, then shape.
 *
 * @example
 * lintDockerfile('deploy/Dockerfile'); // []
 */
export function lintDockerfile(file: string): string[] {
  const content = readFileSync(file, 'utf8');
  const lint = validate(content, STRICT).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
  return [...lint, ...shapeProblems(content)];
}
