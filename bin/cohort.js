#!/usr/bin/env node
// The `cohort` command. TypeScript sources run through tsx's loader, so there is no build step to
// forget and stack traces point at the real files.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
