// Renders a job summary (Markdown) to a standalone HTML page styled like GitHub's, to look at it as a reader
// would: node --import tsx scripts/render-summary.ts summary.md page.html
import * as fs from 'node:fs';
import { marked } from 'marked';

const [input, output] = process.argv.slice(2);
if (!input || !output) throw new Error('usage: render-summary.ts SUMMARY.md PAGE.html');
const body = await marked.parse(fs.readFileSync(input, 'utf8'), { gfm: true });
const css = `
body { font: 14px/1.5 -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: #1f2328; max-width: 980px; margin: 24px auto; padding: 0 24px; }
h2 { border-bottom: 1px solid #d1d9e0; padding-bottom: .3em; } h3 { margin-top: 24px; }
code { background: #eff1f3; border-radius: 6px; padding: .2em .4em; font: 12px "DejaVu Sans Mono", monospace; }
table { border-collapse: collapse; margin: 8px 0 16px; } th, td { border: 1px solid #d1d9e0; padding: 6px 13px; }
tr:nth-child(2n) { background: #f6f8fa; } th { font-weight: 600; }
details { margin-top: 16px; } summary { cursor: pointer; }`;
fs.writeFileSync(
  output,
  `<!doctype html><html><head><meta charset="utf-8"><style>${css}</style></head><body>${body}</body></html>`,
);
