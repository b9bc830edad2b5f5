// Lint: typescript-eslint's `recommended` set without type information (it stays fast on two cores;
// `tsc --noEmit` already checks types), plus the few choices below. Layout is prettier's job
// (.prettierrc), not eslint's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'visualizations/', 'coverage/', 'test-artifacts/', 'scratch/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // A leading underscore is how this code says "unused on purpose": a callback's unused
      // parameter, a field dropped from a rest copy (`const { id: _id, ...rest } = options`).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // `(...args: any[]) => void` is the only way to accept any function type (the timer shims
      // override Node's own signatures); every other `any` is still an error.
      '@typescript-eslint/no-explicit-any': ['error', { ignoreRestArgs: true }],
      // `==` hides coercions; `== null` (null or undefined) is the one comparison it says well.
      eqeqeq: ['error', 'always', { null: 'ignore' }]
    }
  },
  {
    // The files that type XState's own actor system, which XState declares as `ActorSystem<any>`.
    files: ['src/indexed-scheduler.ts', 'src/xstate-internals.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' }
  },
  {
    // The layers (docs/architecture.md): the machines are the bottom floor and import only
    // xstate and each other, so they can be read, charted and tested without the pool.
    files: ['machines/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../src/*', '../../src/*', '**/src/**'], message: 'machines/ sits below src/: it imports only xstate and machines/.' }] }
      ]
    }
  },
  {
    // Shipped code logs through the injected logger (pino-shaped), never the console; the
    // console logger itself, the demo, the diagram generator and the React example may print.
    files: ['src/**/*.ts', 'machines/**/*.ts'],
    ignores: ['src/logger.ts', 'src/demo/**', 'src/diagrams/**', 'src/examples/react-peer-table/**'],
    rules: { 'no-console': 'error' }
  }
);
