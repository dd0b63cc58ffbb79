/** A small seeded generator of numbers in [0, 1), so that random runs can be repeated: the fuzzer's. */
export { mulberry32 as seededRandom } from '../../src/fuzz/random.js';
