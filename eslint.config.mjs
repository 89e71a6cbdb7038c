// ESLint for the whole repository (`npm run lint`, part of `npm run check`). Typed rules need the type
// checker, so every TypeScript file is linted with the project's tsconfig.json.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A promise nobody awaits or catches is an unhandled rejection waiting to end the process.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      // A new event type or status must be handled everywhere a switch decides on it.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      'no-console': ['error', { allow: ['log', 'error', 'warn'] }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // Small enough to read in one sitting.
      'max-lines': ['error', { max: 300 }],
      'max-lines-per-function': ['error', { max: 60 }],
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/test/**', '**/bench/**'], message: 'production code does not import tests or benchmarks.' }] }],
    },
  },
  {
    // Apps reach NATS only through the named ports of libs/nats (docs/architecture.md, "Where things live").
    files: ['apps/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/test/**', '**/bench/**'], message: 'production code does not import tests or benchmarks.' },
            { group: ['@nats-io/*'], message: 'apps use the ports of @beamline/nats (EventLog, StoreQueries, Notifications, ...), never the NATS client.' },
          ],
        },
      ],
    },
  },
  {
    // The domain is pure: no framework, no NATS, no I/O.
    files: ['libs/domain/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@nestjs/*', '@nats-io/*', 'node:*', 'undici', 'express'], message: 'libs/domain is pure TypeScript: no framework, NATS or I/O.' },
            { group: ['@beamline/*'], message: 'libs/domain depends on no other library.' },
          ],
        },
      ],
    },
  },
);
