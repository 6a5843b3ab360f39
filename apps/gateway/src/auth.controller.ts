import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { AppError, ErrorCode } from '@saga/contracts';
import { parseWith } from '@saga/nest-kit';
import { z } from 'zod';
import { UserDirectory } from './auth/users';
import { TokenService } from './auth/token.service';

/** Body of `POST /api/auth/login` (also the source of its OpenAPI schema). */
export const LoginSchema = z.strictObject({ username: z.string().min(1).max(100), password: z.string().min(1).max(200) });

/** `POST /api/auth/login {username, password}` → 200 `{token}`; 401 UNAUTHORIZED otherwise. */
@Controller('api/auth')
export class AuthController {
  constructor(
    @Inject(UserDirectory) private readonly users: UserDirectory,
    @Inject(TokenService) private readonly tokens: TokenService,
  ) {}

  @Post('login')
  @HttpCode(200)
  async login(@Body() body: unknown) {
    const { username, password } = parseWith(LoginSchema, body);
    const principal = this.users.verify(username, password);
    if (principal === undefined) throw new AppError(ErrorCode.Unauthorized, 'unknown user or wrong password');
    return { token: await this.tokens.sign(principal), role: principal.role, sub: principal.sub };
  }
}
