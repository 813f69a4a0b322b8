// The Temporal Web UI, in headless Chromium, shows a run's payloads decrypted when the dev server
// tells it to use our codec server (--ui-codec-endpoint), and only ciphertext without it (the same
// dev server restarted on its SQLite file without the flag). KHA_UI_SCREENSHOTS=DIR saves what it saw.
// https://docs.temporal.io/production-deployment/data-encryption#web-ui
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { NativeConnection, Worker } from '@temporalio/worker';
import { chromium, type Browser } from 'playwright-core';
import { createCodecServer } from '../../src/codec/codec-server';
import { ENCRYPTED_ENCODING, EncryptionCodec, KEY_ID_METADATA } from '../../src/codec/encryption-codec';
import { loadCodecKeys } from '../../src/codec/keys';
import { TASK_QUEUE } from '../../src/shared/definitions';
import type { HaClusterResult } from '../../src/workflows/ha-cluster';
import { DevServer, freePort } from '../helpers/harness';
import { quietRuntime, workflowBundle, workerDataConverter } from '../helpers/temporal';
import { Call, fakeActivities, spec } from '../workflows/fakes';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const WORKFLOW_ID = 'codec-ui-run';
/** In the input only: not in the workflow ID, the search attributes or the summary. */
const MARKER = 'lb-decoded-marker.example';
/** An undecoded input as the UI (2.54) shows it: the payload's data, base64, in quotes. */
const SHOWS_CIPHERTEXT = /Input\s*"([A-Za-z0-9+/]{64,}={0,2})"/;

describe(
  'Web UI with the codec server',
  { skip: !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM} (apt-get install chromium)` },
  () => {
    const server = new DevServer();
    let codec: Server;
    let browser: Browser;
    let uiPort = 0;

    before(async () => {
      quietRuntime();
      uiPort = await freePort();
      // The browser calls the codec server from the UI's page, so CORS must allow the UI's origin.
      codec = createCodecServer({
        codec: new EncryptionCodec(loadCodecKeys()),
        origins: [`http://127.0.0.1:${uiPort}`],
      });
      await new Promise<void>((res) => codec.listen(0, '127.0.0.1', res));
      server.ui = { port: uiPort, codecEndpoint: `http://127.0.0.1:${(codec.address() as AddressInfo).port}` };
      await server.start();
      const connection = await NativeConnection.connect({ address: server.address });
      const calls: Call[] = [];
      const worker = await Worker.create({
        connection,
        taskQueue: TASK_QUEUE,
        workflowBundle: await workflowBundle(),
        activities: fakeActivities(calls),
        dataConverter: workerDataConverter(),
      });
      const { client, close } = await server.client();
      try {
        const r = (await worker.runUntil(
          client.workflow.execute('haClusterWorkflow', {
            taskQueue: TASK_QUEUE,
            workflowId: WORKFLOW_ID,
            args: [{ spec: { ...spec([], 1), name: 'codec-ui', loadBalancer: { host: MARKER, port: 6443 } } }],
          }),
        )) as HaClusterResult;
        assert.equal(r.outcome, 'completed');
      } finally {
        await close();
        await connection.close();
      }
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    });
    after(async () => {
      try {
        await browser?.close();
      } finally {
        await server.stop();
        await new Promise((res) => codec?.close(res));
      }
    });

    /** The run's page text once the UI has rendered its input (decoded or not). */
    async function runPage(name: string): Promise<string> {
      const page = await browser.newPage({ viewport: { width: 1600, height: 2000 } });
      try {
        await page.goto(`http://127.0.0.1:${uiPort}/namespaces/default/workflows/${WORKFLOW_ID}`, {
          waitUntil: 'domcontentloaded',
          timeout: 60_000,
        });
        let text = '';
        for (let i = 0; i < 60; i++) {
          text = await page.locator('body').innerText();
          if (text.includes(MARKER) || SHOWS_CIPHERTEXT.test(text)) break;
          await page.waitForTimeout(500);
        }
        if (process.env.KHA_UI_SCREENSHOTS) {
          await page.screenshot({ path: join(process.env.KHA_UI_SCREENSHOTS, `${name}.png`), fullPage: true });
          writeFileSync(join(process.env.KHA_UI_SCREENSHOTS, `${name}.txt`), text);
        }
        return text;
      } finally {
        await page.close();
      }
    }

    it('shows the input decrypted through the codec server', async () => {
      const text = await runPage('with-codec');
      assert.ok(text.includes(MARKER), `the decoded input is not on the page:\n${text.slice(0, 3000)}`);
    });

    it('without the codec endpoint shows only ciphertext', async () => {
      await server.stop();
      server.ui = { port: uiPort };
      await server.start();
      const text = await runPage('without-codec');
      assert.ok(!text.includes(MARKER), 'the input is readable without the codec server');
      const shown = SHOWS_CIPHERTEXT.exec(text)?.[1];
      assert.ok(shown, `no ciphertext shown as the input:\n${text.slice(0, 3000)}`);
      // What the UI shows is our ciphertext: it decrypts, with the key, to the input.
      const keys = loadCodecKeys();
      const [plain] = await new EncryptionCodec(keys).decode([
        {
          metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: Buffer.from(keys.encryptKeyId!) },
          data: Buffer.from(shown, 'base64'),
        },
      ]);
      assert.match(Buffer.from(plain.data!).toString(), new RegExp(MARKER.replace(/\./g, '\\.')));
    });
  },
);
