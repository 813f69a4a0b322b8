// Tests keep their keys, known_hosts files and fleets under the temp folder, so the worker's file
// roots (src/worker-files.ts) include it, beside the project; workers the tests spawn inherit it.
// A test of the roots themselves sets its own.
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { FILE_ROOTS_ENV } from '../../src/worker-files';

if (!process.env[FILE_ROOTS_ENV]) process.env[FILE_ROOTS_ENV] = [resolve(__dirname, '../../..'), tmpdir()].join(':');
