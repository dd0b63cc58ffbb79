import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { compressionOf, decoderFor } from '../../src/inspection/layer-compression.js';
import { zstdRawFrame } from '../support/oci-edit.js';

/** A zstd frame of `blocks` runs of 128 KiB zeros (RLE blocks, 4 bytes each) with a 1 MiB window. */
function zstdZeros(blocks: number): Buffer {
  const header = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x50]);
  const body = Buffer.alloc(blocks * 4);
  for (let i = 0; i < blocks; i++)
    body.writeUIntLE((131072 << 3) | (1 << 1) | (i === blocks - 1 ? 1 : 0), i * 4, 3);
  return Buffer.concat([header, body]);
}

describe('layer compressions', () => {
  it('tells gzip, zstd and plain tar (also an empty one) apart by their first bytes, and JSON from all', () => {
    const tar = Buffer.alloc(1024);
    tar.write('ustar', 257, 'latin1');
    assert.equal(compressionOf(Buffer.from([0x1f, 0x8b, 8, 0])), 'gzip');
    assert.equal(compressionOf(zstdRawFrame(Buffer.from('x'))), 'zstd');
    assert.equal(compressionOf(tar), 'uncompressed');
    assert.equal(compressionOf(Buffer.alloc(1024)), 'uncompressed');
    assert.equal(
      compressionOf(Buffer.from(JSON.stringify({ schemaVersion: 2, pad: ' '.repeat(400) }))),
      undefined,
    );
  });

  it('zstd waits for its reader: 64 MiB of zeros from 8 KiB never sits whole in the decoder', async () => {
    const decoder = decoderFor('zstd');
    let total = 0;
    let mostWaiting = 0;
    await pipeline(
      Readable.from([zstdZeros(512)]),
      decoder,
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          total += chunk.length;
          mostWaiting = Math.max(mostWaiting, decoder.readableLength);
          setImmediate(callback);
        },
      }),
    );
    assert.equal(total, 64 * 2 ** 20);
    // One input slice decodes to at most 32 MiB: without the slices and the wait, all 64 MiB would be waiting.
    assert.ok(mostWaiting <= 33 * 2 ** 20, `${mostWaiting} bytes waited in the decoder`);
  });
});
