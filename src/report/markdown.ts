/* Markdown for GitHub's job summary, shared by the run's summary and the bisect table: text that cannot break
   out of a paragraph, a table cell or a code span, whatever a path, a cause or an image name holds. */

/** What a table cell shows when there is no value. */
export const NONE = '—';

/** Text with every character that GitHub would read as emphasis, a link, HTML or a cell border escaped. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>|]/g, (c) => `\\${c}`);
}

/** A table cell: Markdown escaped (a pipe would end the cell), on one line. */
export function cell(text: string): string {
  return escapeMarkdown(text).replace(/\r?\n/g, '<br>');
}

/** A code span; a backtick would end it early, and GitHub splits table cells at a pipe even inside one. */
export function code(text: string): string {
  // A line break would end the table (and the code span) and let the rest read as Markdown.
  return `\`${text
    .replace(/[\r\n]+/g, ' ')
    .replace(/`/g, "'")
    .replace(/\|/g, '\\|')}\``;
}

/** One table row of cells that are already Markdown: `| a | b |`. */
export function tableRow(cells: readonly (string | number)[]): string {
  return `| ${cells.join(' | ')} |`;
}
