// Values that test/global-setup.ts hands to tests through vitest's provide/inject.
import "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** URL of a database with all of prisma/migrations applied, shared by the whole run. */
    databaseUrl: string;
  }
}
