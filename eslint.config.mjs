// Lint rules after samples-typescript's shared config: typescript-eslint's recommended set,
// no floating promises (an un-awaited promise in workflow code is a lost step), and workflow code
// restricted to deterministic imports: no Node built-ins, and only the types of the activities,
// the SSH layer and the config loaders (their code runs on the worker, never in the sandbox).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = [
  'node:*',
  'fs',
  'fs/*',
  'path',
  'os',
  'child_process',
  'crypto',
  'net',
  'http',
  'https',
  'util',
  'stream',
  'timers',
  'timers/*',
];

export default tseslint.config(
  { ignores: ['eslint.config.mjs', 'lib/**', 'lib-*/**', 'node_modules/**', '.tools/**', '.run/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's describe/it/test return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'it', 'test', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      'object-shorthand': ['error', 'always'],
    },
  },
  {
    // Tests match printed output to the column, spaces included.
    files: ['test/**/*.ts'],
    rules: { 'no-regex-spaces': 'off' },
  },
  {
    // What the workflow bundle holds: the workflows and the modules they import.
    files: ['src/workflows/**/*.ts', 'src/shared/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: NODE_BUILTINS, message: 'Workflow code is deterministic: no Node built-ins (activities do I/O).' },
            {
              group: [
                '../activities',
                '../activities/*',
                '../../activities',
                '../../activities/*',
                '../../../activities',
                '../../../activities/*',
                '!**/activities/types',
                '**/ssh/*',
                '**/config/schema',
                '**/config/cluster-file',
                '**/config/file-checks',
                '**/client/*',
                '**/codec/*',
              ],
              allowTypeImports: true,
              message:
                'Workflow code may import only the types of activities, SSH, config loading, the client and the codec.',
            },
          ],
        },
      ],
    },
  },
);
