import * as fs from 'node:fs';

/** Writes `file` until its disk has no byte left (ENOSPC): a full disk, as a fault of the test bed. */
export function fillDisk(file: string): void {
  const fd = fs.openSync(file, 'w');
  try {
    // Big writes first, then smaller ones for the last free blocks.
    for (const size of [1 << 20, 4096, 1]) {
      const chunk = Buffer.alloc(size);
      try {
        for (;;) fs.writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}
