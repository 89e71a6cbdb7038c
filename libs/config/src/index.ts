export * from './setting';
export * from './load';
export * from './table';
export * from './startup';
