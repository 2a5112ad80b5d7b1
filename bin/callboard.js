#!/usr/bin/env node
// The package's command: runs the TypeScript CLI through tsx's loader, so `npx callboard`
// works from a clone without a build step.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/main.ts');
