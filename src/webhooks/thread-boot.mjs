// The webhook thread's entry when the service runs from its TypeScript sources (npm start, the
// tests): tsx's loader first, in this thread, then the entry itself (thread.ts chooses).
import { register } from "tsx/esm/api";

register();
await import("./thread-main.ts");
