// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'build/**', 'test/artifacts/**', 'templates/**/*.py'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // Tests may assert presence with `!` after checking it; production code may not.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    // The core runs in plain Node (tests, CLI, daemon): it must never reach for Electron.
    files: ['main/core/**/*.ts', 'main/cli.ts', 'main/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          { name: 'electron', message: 'main/core is Electron-free: take what you need as a port in main/core/ports.ts.' },
          { name: 'electron-store', message: 'electron-store loads electron: use the ConfigStore port.' },
        ],
        patterns: [{ group: ['**/app/*', '**/ipc/*', '**/adapters/*'], message: 'main/core must not import the Electron shell.' }],
      }],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'The renderer talks to main only through window.hpc (preload/contract.ts).' }] }],
      'no-restricted-syntax': ['error', { selector: "MemberExpression[property.name='innerHTML']", message: 'Untrusted text is rendered as text, never HTML.' }],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}', 'main/**/*.ts'],
    rules: {
      'no-restricted-properties': ['error',
        { object: 'ipcRenderer', message: 'Use the typed preload API generated from preload/contract.ts.' },
      ],
    },
  },
);
