import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export type Role = 'customer' | 'operator';

/** Who a request acts as: a customer (subject = customer id) or the operator. */
export interface Principal {
  sub: string;
  role: Role;
}

/** A login of the directory: the username is the token's subject (a customer's id, or e.g. `operator`). */
export interface UserAccount {
  username: string;
  role: Role;
  /** `scrypt$<salt>$<key>` (base64url), as {@link hashPassword} writes it. */
  passwordHash: string;
}

/**
 * The demo logins: CUS_0001..CUS_0005 with `<id lower-case>-pass`, and `operator` / `operator-pass`.
 * Loaded only with AUTH_MODE=demo; their passwords are in the README, so they guard nothing. Their
 * hashes were written once by `hashPassword`: six scrypt derivations at every gateway start were
 * ~0.6 s of CPU before it could answer (ADR 10, fifth addendum); users.spec checks each one.
 */
export const DEMO_LOGINS: readonly { username: string; password: string; role: Role; passwordHash: string }[] = [
  { username: 'CUS_0001', password: 'cus_0001-pass', role: 'customer', passwordHash: 'scrypt$7CrsHtpYuzCqAASE4QAv9Q$oujQhWkzj5e1cnh174o0T25aDFUdgclQC0r3PULDa-c' },
  { username: 'CUS_0002', password: 'cus_0002-pass', role: 'customer', passwordHash: 'scrypt$PiGBuNGHmmNCn9H2gG9fWg$cDaV9FpMqa-jinTNJjQx-G2zEpzGSpiMdv6SinphRWc' },
  { username: 'CUS_0003', password: 'cus_0003-pass', role: 'customer', passwordHash: 'scrypt$mzLFGNtgiApVOY0kgN8Kog$FmKbQpXwYAX20wAabucGg9WOULs9-PIxda2mJpHFrsQ' },
  { username: 'CUS_0004', password: 'cus_0004-pass', role: 'customer', passwordHash: 'scrypt$VG_Kx1CnKZmG_iIGQnef9w$4P1oikyzsjSAPTi9jJh-74mzzdGwTVqeTgvNjjFH6LY' },
  { username: 'CUS_0005', password: 'cus_0005-pass', role: 'customer', passwordHash: 'scrypt$rsyiukbVoV453Qw0eI5Y2w$WPAawB10_dYP6GNLGu20ulw74yVK-534Rrg-VKOOA8U' },
  { username: 'operator', password: 'operator-pass', role: 'operator', passwordHash: 'scrypt$g8Y4navXQMb8hMW_qK3IwA$b3vKrei9MEb80jnJzvAEAg_b02xJajPWr4c8_guyPTI' },
];

const KEY_LENGTH = 32;
const HASH_FORMAT = /^scrypt\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{43})$/;

function derive(password: string, salt: Buffer): Buffer {
  return scryptSync(password, salt, KEY_LENGTH);
}

/**
 * The stored form of a password: scrypt (N=16384, r=8, p=1) with a random 16-byte salt.
 *
 * @example
 * hashPassword('s3cret') // 'scrypt$Jq0v...$7wQ...'
 */
export function hashPassword(password: string, salt: Buffer = randomBytes(16)): string {
  return `scrypt$${salt.toString('base64url')}$${derive(password, salt).toString('base64url')}`;
}

/** The accounts of configuration (AUTH_USERS / AUTH_USERS_FILE): unique usernames, well-formed hashes, an operator among them. */
export const UserAccountsSchema = z
  .array(
    z.strictObject({
      username: z.string().min(1).max(100),
      role: z.enum(['customer', 'operator']),
      passwordHash: z.string().regex(HASH_FORMAT, 'must be scrypt$<salt>$<key> as written by `npm run hash-password`'),
    }),
  )
  .superRefine((users, ctx) => {
    const seen = new Set<string>();
    users.forEach((u, i) => {
      if (seen.has(u.username)) ctx.addIssue({ code: 'custom', path: [i, 'username'], message: `${u.username} is listed twice` });
      seen.add(u.username);
    });
    if (!users.some((u) => u.role === 'operator')) ctx.addIssue({ code: 'custom', path: [], message: 'needs at least one account with role "operator"' });
  });

interface StoredUser extends Principal {
  salt: Buffer;
  key: Buffer;
}

/**
 * The user directory: only scrypt hashes are kept, and a password is compared in constant time. An
 * unknown user costs one hash too, so timing tells nothing.
 *
 * @example
 * const users = UserDirectory.of(env.AUTH_MODE === 'demo' ? demoAccounts() : env.AUTH_USERS);
 * users.verify('operator', 'operator-pass'); // { sub: 'operator', role: 'operator' } in demo mode
 */
export class UserDirectory {
  private readonly users = new Map<string, StoredUser>();
  private readonly decoy: StoredUser;

  private constructor(accounts: readonly UserAccount[]) {
    for (const a of accounts) {
      const [, salt, key] = HASH_FORMAT.exec(a.passwordHash) ?? [];
      if (salt === undefined || key === undefined) throw new Error(`the password hash of ${a.username} is malformed`);
      this.users.set(a.username, { sub: a.username, role: a.role, salt: Buffer.from(salt, 'base64url'), key: Buffer.from(key, 'base64url') });
    }
    // No password derives this key (it is random): an unknown user costs one derivation and never matches.
    this.decoy = { sub: '', role: 'customer', salt: randomBytes(16), key: randomBytes(KEY_LENGTH) };
  }

  static of(accounts: readonly UserAccount[]): UserDirectory {
    return new UserDirectory(accounts);
  }

  /** The principal when the password matches, else undefined. */
  verify(username: string, password: string): Principal | undefined {
    const user = this.users.get(username);
    const stored = user ?? this.decoy;
    const same = timingSafeEqual(derive(password, stored.salt), stored.key);
    return user !== undefined && same ? { sub: user.sub, role: user.role } : undefined;
  }
}

/** The demo logins with their hashes (they never exist outside demo mode). */
export function demoAccounts(): UserAccount[] {
  return DEMO_LOGINS.map(({ username, role, passwordHash }) => ({ username, role, passwordHash }));
}
