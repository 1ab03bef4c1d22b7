/** Architecture rules that fail the build (npm run lint:deps, run by npm test). */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'libs/domain holds the rules of the domain: no framework, database or broker.',
      severity: 'error',
      from: { path: '^libs/domain/' },
      to: { path: 'node_modules/(@nestjs|typeorm|typeorm-pglite|@electric-sql|kafkajs|pg|express|jose)/' },
    },
    {
      name: 'domain-depends-on-contracts-only',
      severity: 'error',
      from: { path: '^libs/domain/' },
      to: { path: '^(libs/(?!domain|contracts)|apps/)' },
    },
    {
      name: 'contracts-are-standalone',
      comment: 'The event contract is published to other teams: it depends on nothing of ours or theirs.',
      severity: 'error',
      from: { path: '^libs/contracts/' },
      to: { path: '^(libs/(?!contracts)|apps/|node_modules/)' },
    },
    {
      name: 'application-behind-ports',
      comment: 'Handlers reach storage and transport only through ports.',
      severity: 'error',
      from: { path: '^libs/application/' },
      to: { path: '^(libs/(event-store|messaging|read-models|runtime)/|apps/)|node_modules/(typeorm|kafkajs|pg)/' },
    },
    {
      name: 'libs-do-not-import-apps',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.spec\\.ts$' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
