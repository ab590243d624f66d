// Instants as the API writes them: ISO 8601 to the microsecond (src/domain/instant.ts).
import { instantOf } from "../../src/domain/instant.js";

export const iso = (date: Date): string => instantOf(date).toISOString();
