#!/usr/bin/env node
// The `hpc-relay` command: plain Node, no Electron. Built by `npm run build:cli` into out/cli.
import { main } from '../out/cli/cli.js';

const code = await main(process.argv.slice(2));
process.exit(code);
