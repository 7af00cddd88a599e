/**
 * Runs work for the same key one at a time within this process (other keys run in parallel). Writers
 * to one hot stream then meet conflicts only with other instances, not with each other.
 */
export function createKeyedLock(): <T>(key: string, work: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const previous = tails.get(key) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.catch(() => {});
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return run;
  };
}

/**
 * Retries work that lost an optimistic-concurrency race (isConflict), with a short jittered pause,
 * up to maxAttempts; the last conflict is rethrown (callers map it to ABORTED).
 */
export async function retryOnConflict<T>(
  work: () => Promise<T>,
  isConflict: (error: unknown) => boolean,
  maxAttempts = 25,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isConflict(error) || attempt >= maxAttempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 * attempt)));
    }
  }
}
