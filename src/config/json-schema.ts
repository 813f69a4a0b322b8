// schema/cluster.schema.json, generated from the zod schema (zod v4's z.toJSONSchema) for editors:
// a cluster file that starts with `# yaml-language-server: $schema=<path>/cluster.schema.json` gets
// completion and hover help. Regenerate with `npm run schema`; a unit test fails when it is stale.
// Checks a JSON Schema cannot say (refinements, files, ranges across fields) stay in the loader.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { clusterFileSchema } from './schema';

/** Where the committed file lives, from lib/src/config or src/config alike. */
export const SCHEMA_FILE = resolve(
  __dirname,
  __dirname.includes('/lib/') ? '../../..' : '../..',
  'schema',
  'cluster.schema.json',
);

/** The file's text: the input side (fields with defaults are optional), stable key order. */
export function clusterJsonSchemaText(): string {
  const schema = z.toJSONSchema(clusterFileSchema, { io: 'input', target: 'draft-2020-12' });
  return `${JSON.stringify({ ...schema, title: 'kubeadm-ha cluster file' }, null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(SCHEMA_FILE, clusterJsonSchemaText());
  console.log(`wrote ${SCHEMA_FILE}`);
}
