// Lint: TypeScript rules plus the import boundaries of ../ARCHITECTURE.md, so the shape of the house is checked.
import tseslint from 'typescript-eslint';

/** restrict builds a no-restricted-imports rule that forbids importing the named top-level folders. */
function restrict(folders, why) {
  return {
    'no-restricted-imports': ['error', {
      patterns: folders.map((f) => ({ group: [`**/${f}/**`, `${f}/**`], message: why })),
    }],
  };
}

export default tseslint.config(
  { ignores: ['node_modules/**', 'var/**', 'console/dist/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  {
    files: ['adapters/**/*.ts'],
    rules: restrict(['gateway', 'config', 'console'], 'adapters/ receive their options; they never import gateway/, config/ or console/.'),
  },
  {
    files: ['config/**/*.ts'],
    rules: restrict(['gateway', 'adapters', 'console'], 'config/ is a leaf: schema and loader only.'),
  },
  {
    files: ['gateway/src/access/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'net', 'http', 'child_process', 'better-sqlite3', 'fastify'], message: 'access/ is pure: no I/O.' },
          { group: ['../store/**', '../media/**', '../http/**', '../catalog/**'], message: 'access/ is pure: no I/O.' },
        ],
      }],
    },
  },
  {
    files: ['gateway/src/http/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['fluent-ffmpeg', 'child_process', 'node:child_process', 'better-sqlite3'], message: 'http/ is thin: it asks media/ and store/ through their interfaces.' },
          { group: ['**/console/**'], message: 'the gateway never imports console/ source.' },
        ],
      }],
    },
  },
  {
    files: ['gateway/src/**/*.ts'],
    ignores: ['gateway/src/media/**', 'gateway/src/http/**', 'gateway/src/access/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['fluent-ffmpeg'], message: 'media/ alone owns ffmpeg processes.' },
          { group: ['**/console/**'], message: 'the gateway never imports console/ source.' },
        ],
      }],
    },
  },
  {
    files: ['console/src/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/adapters/**', '**/config/**', '**/gateway/src/!(http|wall)/**', '**/gateway/src/wall/!(wall-schemas.js)'], message: 'console/ talks to the gateway over HTTP; it imports only types from gateway/src/http (and the wall\'s schemas).' },
        ],
      }],
    },
  },
);
