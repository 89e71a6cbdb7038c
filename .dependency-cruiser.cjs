/** Dependency rules between the repository's parts (`npm run depcheck`, part of `npm run check`). */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'A cycle makes load order matter and every part of it untestable alone.', from: {}, to: { circular: true } },
    {
      name: 'domain-is-a-leaf',
      severity: 'error',
      comment: 'libs/domain is pure: it depends on no other library or app.',
      from: { path: '^libs/domain/' },
      to: { path: '^(libs/(?!domain/)|apps/)' },
    },
    { name: 'libs-do-not-import-apps', severity: 'error', from: { path: '^libs/' }, to: { path: '^apps/' } },
    {
      name: 'apps-are-separate',
      severity: 'error',
      comment: 'Apps share code through libs/, never by importing each other.',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'features-use-each-others-surface',
      severity: 'error',
      comment:
        "A feature folder of an app (tasks/, sockets/, ...) may use another feature's top-level files, never what lies in its subfolders (commands/, queries/: its internals).",
      from: { path: '^apps/([^/]+)/src/([^/]+)/' },
      to: { path: '^apps/$1/src/[^/]+/[^/]+/', pathNot: '^apps/$1/src/$2/' },
    },
    {
      name: 'production-does-not-import-tests',
      severity: 'error',
      from: { path: '^(apps|libs)/', pathNot: '\\.spec\\.ts$' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|coverage)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
