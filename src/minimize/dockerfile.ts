import {
  Add,
  Copy,
  DockerfileParser,
  From,
  type Instruction as DockerfileInstruction,
  Run,
} from 'dockerfile-ast';

/** One instruction as written, continuation lines and heredoc bodies included. */
export interface Instruction {
  keyword: string;
  text: string;
  /** FROM: the image or stage it starts from, as written, and the stage's own name (lower case). */
  base?: string;
  stageName?: string;
  /** COPY or ADD --from, RUN --mount=…,from=: the stages (names or indexes) or images it reads. */
  readsFrom?: string[];
  /** ARG: the defaults it declares (NAME=value). */
  argDefaults?: Record<string, string>;
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
        read.base = instruction.getImage() ?? '';
        const name = instruction.getBuildStage();
        if (name) read.stageName = name.toLowerCase();
      }
      const readsFrom = stageReferences(instruction);
      if (readsFrom.length > 0) read.readsFrom = readsFrom;
      if (keyword === 'ARG') {
        const pairs = instruction
          .getArguments()
          .map((a) => /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(a.getValue()))
          .filter((m): m is RegExpExecArray => m !== null);
        if (pairs.length > 0)
          read.argDefaults = Object.fromEntries(
            pairs.map((m) => [m[1] ?? '', (m[2] ?? '').replace(/^(["'])(.*)\1$/, '$2')]),
          );
      }
      return read;
    }),
  };
}

/** `COPY --from=x`, `ADD --from=x`, `RUN --mount=type=…,from=x`: what the instruction reads besides its own stage. */
function stageReferences(instruction: DockerfileInstruction): string[] {
  if (!(instruction instanceof Copy || instruction instanceof Add || instruction instanceof Run)) return [];
  return instruction.getFlags().flatMap((flag) => {
    const name = flag.getName().toLowerCase();
    const value = flag.getValue() ?? '';
    if (name === 'from' && value) return [value];
    if (name !== 'mount') return [];
    const from = value.split(',').find((option) => option.toLowerCase().startsWith('from='));
    return from ? [from.slice('from='.length)] : [];
  });
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
  /** The stages it builds on (FROM <stage>) or reads (COPY --from, RUN --mount from=), by index. */
  needs: number[];
}

function stagesOf(instructions: readonly Instruction[]): Stage[] {
  const stages: Stage[] = [];
  // ARGs before the first FROM: their defaults fill ${NAME} in references (no build-args are passed).
  const defaults: Record<string, string> = {};
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') break;
    Object.assign(defaults, instruction.argDefaults ?? {});
  }
  // Stage names match without case, as BuildKit matches them.
  const expand = (reference: string) =>
    reference
      .replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (whole, name: string) =>
        name in defaults ? (defaults[name] ?? '') : whole,
      )
      .toLowerCase();
  // A reference names an earlier stage by its name or its index; anything else is an image. One with a
  // variable left unresolved may name any earlier stage.
  const earlierStage = (written: string): number[] => {
    const reference = expand(written);
    if (reference.includes('$')) return stages.map((_, i) => i);
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
    for (const reference of instruction.readsFrom ?? []) stage.needs.push(...earlierStage(reference));
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

/**
 * The instructions of stages the last stage does not reach, FROM included: a build never runs them. None
 * when a stage is named by its index: removing a stage would renumber the ones after it.
 */
export function unreachedStages(instructions: readonly Instruction[]): Instruction[] {
  const byIndex = instructions.some((i) =>
    [...(i.readsFrom ?? []), ...(i.keyword === 'FROM' ? [i.base ?? ''] : [])].some((r) => /^\d+$/.test(r)),
  );
  if (byIndex) return [];
  const stages = stagesOf(instructions);
  const reached = reachedStages(stages);
  return stages.flatMap((stage, index) => (reached.has(index) ? [] : stage.instructions));
}

/** The image or stage a FROM line starts from, after its flags. */
const FROM_BASE = /^(\s*FROM\s+(?:--\S+\s+)*)(\S+)/i;

/**
 * The instructions with every stage that holds only its FROM folded into the stages that start from it
 * (`FROM a AS s0` and `FROM s0 AS s1` give `FROM a AS s1`): the same build, one line shorter. None when no
 * stage folds: the last stage, a stage read by --from or from=, one whose FROM has flags, and any file that
 * names a stage by index or variable keep theirs.
 */
export function foldEmptyStages(instructions: readonly Instruction[]): Instruction[] | undefined {
  const froms = instructions.filter(isStageStart);
  const references = [...froms.map((i) => i.base ?? ''), ...instructions.flatMap((i) => i.readsFrom ?? [])];
  if (references.some((r) => /^\d+$/.test(r) || r.includes('$'))) return undefined;
  const readFrom = new Set(instructions.flatMap((i) => i.readsFrom ?? []).map((r) => r.toLowerCase()));
  const lastFrom = froms.at(-1);
  const foldedInto = new Map<string, string>();
  const result: Instruction[] = [];
  instructions.forEach((instruction, index) => {
    if (!isStageStart(instruction)) return result.push(instruction);
    const written = instruction.base ?? '';
    const base = foldedInto.get(written.toLowerCase()) ?? written;
    const next = instructions[index + 1];
    const name = instruction.stageName;
    // A FROM with flags (--platform) would lose them in the stages it folds into.
    const plain = !/^\s*FROM\s+--/i.test(instruction.text);
    const empty = (!next || isStageStart(next)) && instruction !== lastFrom && plain;
    if (empty && name !== undefined && !readFrom.has(name)) return foldedInto.set(name, base);
    const text = instruction.text.replace(FROM_BASE, (_, head: string) => `${head}${base}`);
    return result.push(base === written ? instruction : { ...instruction, base, text });
  });
  return foldedInto.size > 0 ? result : undefined;
}
