import { execFileSync } from 'node:child_process';

/** Containers, volumes and networks that still carry the label (`key` or `key=value`). */
export function leftovers(label: string): string[] {
  const list = (kind: string, args: string[], field: string) =>
    execFileSync('docker', [...args, '--filter', `label=${label}`, '--format', `{{.${field}}}`], {
      encoding: 'utf8',
    })
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((name) => `${kind} ${name}`);
  return [
    ...list('container', ['ps', '--all'], 'Names'),
    ...list('volume', ['volume', 'ls'], 'Name'),
    ...list('network', ['network', 'ls'], 'Name'),
  ];
}
