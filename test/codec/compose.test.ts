// temporal-compose.yml, checked without Docker: the Web UI decodes through our codec server, whose
// documented command (at the top of the file and in docs/temporal.md) allows the UI's origin.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { SEARCH_ATTRIBUTES } from '../../src/shared/definitions';
import { PROJECT_ROOT } from '../helpers/temporal';

const text = readFileSync(resolve(PROJECT_ROOT, 'temporal-compose.yml'), 'utf8');
const compose = parse(text) as {
  services: Record<
    string,
    { image: string; environment?: string[]; ports?: string[]; depends_on?: Record<string, unknown> }
  >;
};
const env = (service: string) =>
  Object.fromEntries((compose.services[service].environment ?? []).map((e) => e.split(/=(.*)/s).slice(0, 2)));

describe('temporal-compose.yml', () => {
  it('parses, pins its images and binds ports to 127.0.0.1', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      assert.match(s.image, /:\d+(\.\d+)*$/, `${name}: image pinned`);
      for (const p of s.ports ?? []) assert.match(p, /^127\.0\.0\.1:/, `${name}: ${p}`);
      for (const d of Object.keys(s.depends_on ?? {}))
        assert.ok(compose.services[d], `${name} depends on unknown ${d}`);
    }
  });

  it('registers every search attribute the workflow uses, as Keyword', () => {
    const job = Object.keys(compose.services).find((name) => {
      const e = compose.services[name].environment;
      return Array.isArray(e) && e.some((x) => x.startsWith('SEARCH_ATTRIBUTES='));
    });
    assert.ok(job, 'a service sets SEARCH_ATTRIBUTES');
    assert.deepEqual(
      env(job).SEARCH_ATTRIBUTES.split(' ').sort(),
      SEARCH_ATTRIBUTES.map((k) => `${k.name}:Keyword`).sort(),
    );
  });

  it('points the Web UI at the codec server, and documents starting it for the UI origin', () => {
    const ui = env('temporal-ui');
    assert.equal(ui.TEMPORAL_CODEC_ENDPOINT, 'http://localhost:8888');
    const uiOrigin = ui.TEMPORAL_CORS_ORIGINS;
    assert.equal(uiOrigin, `http://localhost:${compose.services['temporal-ui'].ports![0].split(':')[1]}`);
    const command = `codec-server --port ${new URL(ui.TEMPORAL_CODEC_ENDPOINT).port} --origin ${uiOrigin}`;
    assert.ok(text.includes(command), `the file documents: ${command}`);
    assert.ok(
      readFileSync(resolve(PROJECT_ROOT, 'docs/temporal.md'), 'utf8').includes(command),
      `docs/temporal.md documents: ${command}`,
    );
  });
});
