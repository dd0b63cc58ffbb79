/*
 * Values no message of this process may show. Some caches take their key or token only as a buildctl
 * attribute (gha's token), so it is in buildctl's arguments: every command line and error quoted in a log,
 * a summary or a report passes through `redact` first. The action also masks them on the runner.
 */
const secrets = new Set<string>();

/** A value to hide from now on; short values are not secrets worth hiding and would blot out words. */
export function addSecret(value: string): void {
  if (value.length >= 8) secrets.add(value);
}

export function redact(text: string): string {
  let result = text;
  for (const secret of secrets) result = result.replaceAll(secret, '***');
  return result;
}
