import { diffSchemas, schemaPath, snapshotPath, migrationsDir } from '../src/db/migrate.js';
import { readFile, writeFile } from 'node:fs/promises';
const content = await readFile(schemaPath, 'utf8');
const { sql } = await diffSchemas(null, { path: schemaPath, content });
const script = await readFile('scripts/migration-new.ts', 'utf8');
const header = script.split('const SNAPSHOT_HEADER = `')[1]!.split('`;')[0]!.replaceAll('\\`', '`');
await writeFile(`${migrationsDir}/20261121000000_init/migration.sql`, sql);
await writeFile(snapshotPath, header + content);
console.log('regenerated from schema.prisma', (await import('node:crypto')).createHash('md5').update(content).digest('hex'));
