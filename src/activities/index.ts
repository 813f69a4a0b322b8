// The activities the worker registers: every value exported here is one, and the workflow takes
// their names and types from this module (workflows/activities.ts). A new activity is an exported
// function in one of these files plus its line in the workflow's options table.
export * from './certs';
export * from './clean';
export * from './etcd';
export * from './init';
export * from './inspect';
export * from './join';
export * from './load-balancer';
export * from './nodes';
export * from './remove';
export * from './reset';
export * from './tokens';
export * from './upgrade';
