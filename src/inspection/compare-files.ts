import type { FileChange } from '../model/difference.js';
import type { FileEntry } from './oci-image.js';

/** How many changed paths an account lists; the rest are counted. */
export const MAX_FILE_CHANGES = 100;

/**
 * Two filesystems path by path: paths only one side has, and for the others each attribute that differs —
 * type, content (sha256 of a regular file), link target, mode, owner. Times are left out: a layer written
 * again has new ones whatever it holds.
 */
export function compareTrees(
  reference: ReadonlyMap<string, FileEntry>,
  attempt: ReadonlyMap<string, FileEntry>,
): { changes: FileChange[]; omitted: number } {
  const changes: FileChange[] = [];
  const paths = [...new Set([...reference.keys(), ...attempt.keys()])].sort();
  for (const path of paths) changes.push(...changesOf(path, reference.get(path), attempt.get(path)));
  return {
    changes: changes.slice(0, MAX_FILE_CHANGES),
    omitted: Math.max(0, changes.length - MAX_FILE_CHANGES),
  };
}

function changesOf(path: string, ref: FileEntry | undefined, att: FileEntry | undefined): FileChange[] {
  if (!ref && att) return [{ path, change: 'extra', reference: '', attempt: describe(att) }];
  if (ref && !att) return [{ path, change: 'missing', reference: describe(ref), attempt: '' }];
  if (!ref || !att) return [];
  if (ref.type !== att.type) return [{ path, change: 'type', reference: ref.type, attempt: att.type }];
  const found: FileChange[] = [];
  const differ = (change: FileChange['change'], r: string, a: string) => {
    if (r !== a) found.push({ path, change, reference: r, attempt: a });
  };
  differ('content', contentOf(ref), contentOf(att));
  differ('link', ref.linkname, att.linkname);
  differ('mode', modeOf(ref), modeOf(att));
  differ('owner', ownerOf(ref), ownerOf(att));
  return found;
}

/** "file sha256:ab12… (177 B), 0644, 0:0" */
function describe(entry: FileEntry): string {
  const what =
    entry.type === 'file'
      ? `file ${contentOf(entry)}`
      : entry.linkname
        ? `${entry.type} → ${entry.linkname}`
        : entry.type;
  return `${what}, ${modeOf(entry)}, ${ownerOf(entry)}`;
}

function contentOf(entry: FileEntry): string {
  return entry.type === 'file' ? `sha256:${entry.sha256} (${entry.size} B)` : '';
}

function modeOf(entry: FileEntry): string {
  return entry.mode.toString(8).padStart(4, '0');
}

function ownerOf(entry: FileEntry): string {
  return `${entry.uid}:${entry.gid}`;
}
