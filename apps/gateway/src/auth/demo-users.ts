import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

export type Role = 'customer' | 'operator';

/** Who a request acts as: a customer (subject = customer id) or the operator. */
export interface Principal {
  sub: string;
  role: Role;
}

interface StoredUser extends Principal {
  salt: Buffer;
  hash: Buffer;
}

const KEY_LENGTH = 32;

/** The seeded demo logins: CUS_0001..CUS_0005 with `<id lower-case>-pass`, and `operator` / `operator-pass`. */
export const DEMO_LOGINS: readonly { username: string; password: string; role: Role }[] = [
  ...['CUS_0001', 'CUS_0002', 'CUS_0003', 'CUS_0004', 'CUS_0005'].map((id) => ({
    username: id,
    password: `${id.toLowerCase()}-pass`,
    role: 'customer' as const,
  })),
  { username: 'operator', password: 'operator-pass', role: 'operator' },
];

function hashOf(password: string, salt: Buffer): Buffer {
  return scryptSync(password, salt, KEY_LENGTH);
}

/**
 * The user directory: only scrypt hashes (salted, computed at start) are kept in memory, and a
 * password is compared in constant time. An unknown user costs one hash too, so timing tells nothing.
 */
export class UserDirectory {
  private readonly users = new Map<string, StoredUser>();
  private readonly decoy: StoredUser;

  constructor(logins: readonly { username: string; password: string; role: Role }[] = DEMO_LOGINS) {
    for (const l of logins) {
      const salt = randomBytes(16);
      this.users.set(l.username, { sub: l.username, role: l.role, salt, hash: hashOf(l.password, salt) });
    }
    const salt = randomBytes(16);
    this.decoy = { sub: '', role: 'customer', salt, hash: hashOf(randomBytes(16).toString('hex'), salt) };
  }

  /** The principal when the password matches, else undefined. */
  verify(username: string, password: string): Principal | undefined {
    const user = this.users.get(username);
    const stored = user ?? this.decoy;
    const same = timingSafeEqual(hashOf(password, stored.salt), stored.hash);
    return user !== undefined && same ? { sub: user.sub, role: user.role } : undefined;
  }
}
