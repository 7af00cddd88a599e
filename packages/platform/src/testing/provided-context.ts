// What the vitest global setup (vitest.global-setup.ts) provides to every test file.
declare module "vitest" {
  export interface ProvidedContext {
    mongodbUrl: string;
    amqpUrl: string;
    /** "mongodb" for a real MongoDB, "ferretdb" for FerretDB (tests may branch on known gaps). */
    mongoFlavour: "mongodb" | "ferretdb";
    /** The Redis tests share ("" when none answers). */
    redisUrl: string;
  }
}

export {};
