// Replaced at bundle time by esbuild (scripts/build.mjs); tests read package.json instead.
declare const __TA_VERSION__: string | undefined;

export const VERSION: string =
  typeof __TA_VERSION__ === 'string' ? __TA_VERSION__ : (process.env.npm_package_version ?? '0.0.0-dev');
