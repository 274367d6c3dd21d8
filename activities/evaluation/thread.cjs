// The entry of an evaluation thread when Tessera runs from its TypeScript sources (npm start runs tsx,
// Jest transforms in its own process only): a worker thread gets neither loader, so this registers tsx's
// require hook and loads the module the pool names. A built worker (dist/) loads the compiled module directly.
'use strict';
const { workerData } = require('node:worker_threads');

const { module: modulePath } = workerData;
if (modulePath.endsWith('.ts')) require('tsx/cjs/api').register();
module.exports = require(modulePath);
