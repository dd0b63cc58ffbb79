import { InputError } from './validators.js';

/**
 * `docker run` options that shape what the container may do. Its name, network, ports, labels, entrypoint and
 * life are the run's own: an option that changed them would break cleanup or exposure, so it is refused.
 */
const CONTAINER_OPTIONS = new Map<string, 'flag' | 'value'>([
  ['--privileged', 'flag'],
  ['--init', 'flag'],
  ['--cap-add', 'value'],
  ['--cap-drop', 'value'],
  ['--security-opt', 'value'],
  ['--cgroupns', 'value'],
  ['--cgroup-parent', 'value'],
  ['--device', 'value'],
  ['--tmpfs', 'value'],
  ['--ulimit', 'value'],
  ['--memory', 'value'],
  ['-m', 'value'],
  ['--memory-swap', 'value'],
  ['--cpus', 'value'],
  ['--pids-limit', 'value'],
  ['--shm-size', 'value'],
  ['--userns', 'value'],
  ['--sysctl', 'value'],
  ['--group-add', 'value'],
  ['--volume', 'value'],
  ['-v', 'value'],
  ['--mount', 'value'],
  ['--env', 'value'],
  ['-e', 'value'],
  ['--dns', 'value'],
]);

export function containerOptions(words: string[]): string[] {
  const input = 'buildkitd-container-options';
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? '';
    const name = word.startsWith('--') && word.includes('=') ? word.slice(0, word.indexOf('=')) : word;
    const kind = CONTAINER_OPTIONS.get(name);
    if (!kind) {
      throw new InputError(
        input,
        `"${word}" is not an option allowed here (allowed: ${[...CONTAINER_OPTIONS.keys()].join(' ')})`,
      );
    }
    if (kind === 'value' && name === word) {
      if (i + 1 >= words.length) throw new InputError(input, `${word} needs a value`);
      i += 1;
    }
  }
  return words;
}
