// The package entry (no side effects): the service's start function and configuration, for runners
// that host it in their own process (tools/embedded). `dist/main.js` is the service's own process.
export * from './gateway.app';
export * from './gateway.config';
export { DEMO_LOGINS, hashPassword } from './auth/users';
export { openApiDocument } from './openapi/openapi.document';
