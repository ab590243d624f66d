// Secrets the service makes for itself on first start and keeps in the database
// (service_secrets), so every instance on it shares them: the key that signs access tokens, the
// key that encrypts webhook signing secrets.
import { randomBytes } from "node:crypto";
import type { Database } from "../db/client.js";

export async function serviceSecret(db: Database, name: string, bytes: number): Promise<Buffer> {
  // Two instances starting at once: one insert wins, both read the winner.
  await db.prisma.serviceSecret.createMany({ data: [{ name, value: randomBytes(bytes) }], skipDuplicates: true });
  const row = await db.prisma.serviceSecret.findUniqueOrThrow({ where: { name } });
  return Buffer.from(row.value);
}
