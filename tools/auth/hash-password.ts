// `npm run -s hash-password -- --username <name> --role customer|operator`: reads a password on stdin
// and prints one account of AUTH_USERS (`{"username","role","passwordHash"}`), so a password never
// appears in a command line or in the configuration, only its scrypt hash (docs/runbook.md, "Accounts").
//
//   printf '%s' "$OPERATOR_PASSWORD" | npm run -s hash-password -- --username operator --role operator
import { parseArgs } from 'node:util';
import { text } from 'node:stream/consumers';
import { hashPassword } from '@saga/app-gateway';

const { values } = parseArgs({
  options: { username: { type: 'string' }, role: { type: 'string', default: 'customer' } },
});
if (values.username === undefined || (values.role !== 'customer' && values.role !== 'operator')) {
  process.stderr.write('usage: printf %s "$PASSWORD" | npm run -s hash-password -- --username <name> [--role customer|operator]\n');
  process.exit(2);
}
const password = (await text(process.stdin)).replace(/\r?\n$/, '');
if (password.length < 12) {
  process.stderr.write('the password on stdin must have at least 12 characters\n');
  process.exit(2);
}
process.stdout.write(`${JSON.stringify({ username: values.username, role: values.role, passwordHash: hashPassword(password) })}\n`);
