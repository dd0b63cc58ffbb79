import type { Settings } from '../inputs/settings.js';
import type { Docker, ImageFacts } from './docker.js';
import { InfrastructureError } from './readiness.js';

/**
 * Every image the run uses, pulled only when the host lacks it (images built here, or air-gapped copies, are
 * used as they are); their facts, read once here, serve the registries and the daemons.
 */
export async function checkImages(docker: Docker, settings: Settings): Promise<Map<string, ImageFacts>> {
  const images = new Set([settings.registryImage, settings.buildkitImage, settings.cacheBuildkitImage]);
  for (const image of settings.mirrorImages) images.add(image.source);
  const facts = await Promise.all(
    [...images].map(async (image): Promise<[string, ImageFacts]> => {
      const present = await docker.imageFacts(image);
      if (present) return [image, present];
      try {
        await docker.pull(image);
      } catch (error) {
        throw new InfrastructureError(
          `image ${image} is not on this Docker host and cannot be pulled: ${(error as Error).message}`,
        );
      }
      const pulled = await docker.imageFacts(image);
      if (!pulled) throw new InfrastructureError(`image ${image} was pulled but cannot be inspected`);
      return [image, pulled];
    }),
  );
  return new Map(facts);
}
