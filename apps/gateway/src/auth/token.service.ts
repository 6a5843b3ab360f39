import { randomBytes } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import type { Principal, Role } from './users';

const ISSUER = 'saga-gateway';

/** HS256 bearer tokens: `sub` = customer id or `operator`, `role` claim. */
export class TokenService {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  /** A random secret for demo mode without JWT_SECRET (tokens die with the process). */
  static randomSecret(): string {
    return randomBytes(32).toString('base64url');
  }

  sign(p: Principal): Promise<string> {
    return new SignJWT({ role: p.role })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(p.sub)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.key);
  }

  /** The principal of a valid token; throws on a bad signature, a wrong algorithm or an expired token. */
  async verify(token: string): Promise<Principal> {
    const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], issuer: ISSUER });
    const role = payload.role;
    if (typeof payload.sub !== 'string' || (role !== 'customer' && role !== 'operator')) throw new Error('token claims are invalid');
    return { sub: payload.sub, role: role as Role };
  }
}
