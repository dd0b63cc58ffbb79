import { PassThrough, Transform, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';

/*
 * The compressions a layer blob comes in (BuildKit's `compression`: gzip by default, zstd or none when a cache
 * exported so is reused by the output), each told by its first bytes and read by its own decoder.
 */

export const LAYER_COMPRESSIONS = ['gzip', 'zstd', 'uncompressed'] as const;
export type LayerCompression = (typeof LAYER_COMPRESSIONS)[number];

/** Bytes enough to tell them apart: a tar's "ustar" magic ends at offset 262. */
export const SNIFF_BYTES = 262;

interface CompressionKind {
  /** Whether a blob's first bytes are of this kind. */
  starts(head: Buffer): boolean;
  decoder(): Transform;
  /** The ends of the layer media types that say so (OCI `+gzip`, Docker `.gzip`; none: a plain tar). */
  mediaTypeSays(mediaType: string): boolean;
}

const KINDS: Record<LayerCompression, CompressionKind> = {
  gzip: {
    starts: (head) => head[0] === 0x1f && head[1] === 0x8b,
    decoder: () => createGunzip(),
    mediaTypeSays: (type) => /[+.]gzip$/.test(type),
  },
  zstd: {
    starts: (head) => head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528,
    decoder: zstdDecoder,
    mediaTypeSays: (type) => /[+.]zstd$/.test(type),
  },
  uncompressed: {
    // A tar's first header says "ustar"; an empty layer's tar is only its end marker, zero blocks.
    starts: (head) =>
      head.length >= SNIFF_BYTES &&
      (head.toString('latin1', 257, 262) === 'ustar' || head.subarray(0, SNIFF_BYTES).every((b) => b === 0)),
    decoder: () => new PassThrough(),
    mediaTypeSays: (type) => /\.tar$/.test(type),
  },
};

/** The compression a blob's first bytes show, or undefined: not a layer (a JSON document, a config). */
export function compressionOf(head: Buffer): LayerCompression | undefined {
  return LAYER_COMPRESSIONS.find((kind) => KINDS[kind].starts(head));
}

export function decoderFor(compression: LayerCompression): Transform {
  return KINDS[compression].decoder();
}

/** Whether a layer descriptor's media type names this compression. */
export function mediaTypeSays(mediaType: string, compression: LayerCompression): boolean {
  return KINDS[compression].mediaTypeSays(mediaType);
}

/**
 * Input slices fed to fzstd at a time: a zstd block decodes to at most 128 KiB from as little as 4 bytes (a run
 * of one byte), so a slice this small decodes to at most 32 MiB before the reader is waited for.
 */
const ZSTD_SLICE = 1024;

/**
 * zstd as a stream, by fzstd (pure JavaScript: Node 20's zlib has no zstd). fzstd decodes synchronously
 * whatever it is given, so the input goes in small slices, and none while the reader has not taken what came
 * out: a layer of zeros that grows a thousandfold waits for its reader instead of filling memory.
 */
class ZstdDecoder extends Transform {
  private readonly decoder = new Decompress((data) => {
    if (data.length > 0 && !this.push(Buffer.from(data))) this.full = true;
  });
  private full = false;
  private wakeFeed: (() => void) | undefined;

  override _read(size: number): void {
    this.full = false;
    const wake = this.wakeFeed;
    this.wakeFeed = undefined;
    wake?.();
    super._read(size);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.feed(chunk).then(
      () => callback(),
      (error: unknown) => callback(new Error(`zstd: ${(error as Error).message}`)),
    );
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.decoder.push(new Uint8Array(0), true);
      callback();
    } catch (error) {
      callback(new Error(`zstd: ${(error as Error).message}`));
    }
  }

  private async feed(chunk: Buffer): Promise<void> {
    for (let at = 0; at < chunk.length; at += ZSTD_SLICE) {
      this.decoder.push(chunk.subarray(at, at + ZSTD_SLICE));
      while (this.full) await new Promise<void>((resolve) => (this.wakeFeed = resolve));
    }
  }
}

function zstdDecoder(): Transform {
  return new ZstdDecoder();
}
