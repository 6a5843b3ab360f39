import { Module, type DynamicModule } from '@nestjs/common';
import { DebitsController } from './debits.controller';
import { WalletService } from './wallet.service';
import { WalletsController } from './wallets.controller';

@Module({})
export class WalletModule {
  static register(wallets: WalletService): DynamicModule {
    return {
      module: WalletModule,
      controllers: [WalletsController, DebitsController],
      providers: [{ provide: WalletService, useValue: wallets }],
    };
  }
}
