import { isDuplicateKey } from "@retail/platform/store";

/** Lets a duplicate-key error pass (the document is there already); throws any other. */
export const ignoreDuplicate = (error: unknown): void => {
  if (!isDuplicateKey(error)) throw error;
};
