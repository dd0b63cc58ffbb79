import { Add, Copy, DockerfileParser, From } from 'dockerfile-ast';

/** One instruction as written, continuation lines and heredoc bodies included. */
export interface Instruction {
  keyword: string;
  text: string;
  /** FROM: the image or stage it starts from, and the stage's own name (lower case, as BuildKit matches). */
  base?: string;
  stageName?: string;
  /** COPY or ADD --from: the stage (name or index) or image it copies from. */
  copiesFrom?: string;
}

export interface ParsedDockerfile {
  /** Parser directives (`# syntax=`, `# escape=`): they change how the rest reads, so every candidate keeps them. */
  directives: string[];
  instructions: Instruction[];
}

/** Instructions that make a layer. */
const LAYER_KEYWORDS = new Set(['RUN', 'COPY', 'ADD']);

/** Splits a Dockerfile into its instructions (comments and blank lines between them are dropped). */
export function parseDockerfile(text: string): ParsedDockerfile {
  const lines = text.split(/\r?\n/);
  const parsed = DockerfileParser.parse(text);
  const linesOf = (start: number, end: number) => lines.slice(start, end + 1).join('\n');
  return {
    directives: parsed.getDirectives().map((d) => linesOf(d.getRange().start.line, d.getRange().end.line)),
    instructions: parsed.getInstructions().map((instruction) => {
      const range = instruction.getRange();
      const keyword = instruction.getKeyword().toUpperCase();
      const read: Instruction = { keyword, text: linesOf(range.start.line, range.end.line) };
      if (instruction instanceof From) {
        read.base = (instruction.getImage() ?? '').toLowerCase();
        const name = instruction.getBuildStage();
        if (name) read.stageName = name.toLowerCase();
      }
      if (instruction instanceof Copy || instruction instanceof Add) {
        const from = instruction.getFlags().find((flag) => flag.getName().toLowerCase() === 'from');
        const value = from?.getValue();
        if (value) read.copiesFrom = value.toLowerCase();
      }
      return read;
    }),
  };
}

export function renderDockerfile(
  directives: readonly string[],
  instructions: readonly Instruction[],
): string {
  return `${[...directives, ...instructions.map((i) => i.text)].join('\n')}\n`;
}

/** FROM starts a stage: without it the lines after it would belong to another one, so it always stays. */
export function isStageStart(instruction: Instruction): boolean {
  return instruction.keyword === 'FROM';
}

interface Stage {
  name?: string;
  /** Its FROM and every instruction after it, up to the next FROM. */
  instructions: Instruction[];
  /** The stages it builds on (FROM <stage>) or copies from (COPY --from), by index. */
  needs: number[];
}

function stagesOf(instructions: readonly Instruction[]): Stage[] {
  const stages: Stage[] = [];
  // A reference names an earlier stage by its name or its index; anything else is an image.
  const earlierStage = (reference: string): number[] => {
    const index = /^\d+$/.test(reference) ? Number(reference) : stages.findIndex((s) => s.name === reference);
    return index >= 0 && index < stages.length ? [index] : [];
  };
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const needs = earlierStage(instruction.base ?? '');
      stages.push({ name: instruction.stageName, instructions: [instruction], needs });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) continue; // ARG before the first FROM
    stage.instructions.push(instruction);
    if (instruction.copiesFrom) stage.needs.push(...earlierStage(instruction.copiesFrom));
  }
  return stages;
}

/** The stages the last one reaches, itself included: BuildKit builds only these. */
function reachedStages(stages: readonly Stage[]): Set<number> {
  const reached = new Set<number>();
  const visit = (index: number) => {
    if (reached.has(index) || !stages[index]) return;
    reached.add(index);
    for (const need of stages[index].needs) visit(need);
  };
  if (stages.length > 0) visit(stages.length - 1);
  return reached;
}

/**
 * Whether building the last stage runs any RUN, COPY or ADD: a step in a stage nothing reaches makes no
 * layer. A candidate without one has nothing that could be lost, and its build would name no step to check
 * the cache by.
 */
export function buildsALayer(instructions: readonly Instruction[]): boolean {
  const stages = stagesOf(instructions);
  return [...reachedStages(stages)].some((index) =>
    stages[index]?.instructions.some((i) => LAYER_KEYWORDS.has(i.keyword)),
  );
}

/** The instructions of stages the last stage does not reach, FROM included: a build never runs them. */
export function unreachedStages(instructions: readonly Instruction[]): Instruction[] {
  const stages = stagesOf(instructions);
  const reached = reachedStages(stages);
  return stages.flatMap((stage, index) => (reached.has(index) ? [] : stage.instructions));
}
