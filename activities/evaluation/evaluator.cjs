// The entry of an evaluation process when Tessera runs from its TypeScript sources (npm start runs tsx, Jest
// transforms in its own process only): a forked process gets neither loader (pool.ts gives it no execArgv of
// the parent's), so this registers tsx's require hook and loads the program. A built worker (dist/) forks the
// compiled evaluator-process.js directly.
'use strict';
require('tsx/cjs/api').register();
require('./evaluator-process.ts');
