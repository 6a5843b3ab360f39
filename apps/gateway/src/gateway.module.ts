import { Module, type DynamicModule } from '@nestjs/common';
import { AuthController } from './auth.controller';
import { UserDirectory } from './auth/users';
import { TokenService } from './auth/token.service';

/** The gateway's own Nest routes (login); proxying lives on the Fastify instance (gateway.app.ts). */
@Module({})
export class GatewayModule {
  static register(users: UserDirectory, tokens: TokenService): DynamicModule {
    return {
      module: GatewayModule,
      controllers: [AuthController],
      providers: [
        { provide: UserDirectory, useValue: users },
        { provide: TokenService, useValue: tokens },
      ],
    };
  }
}
